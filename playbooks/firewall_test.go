package playbooks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
	"github.com/clusterctl/clusterctl/internal/teardown"
)

// The firewall steps run through a real shell against stub firewall-cmd,
// systemctl and SELinux tools: apply opens exactly the missing rules (a
// rule already there before apply stays), a second apply is in state,
// and teardown closes only what apply opened.
func TestFirewallStepsApplyThenTeardown(t *testing.T) {
	h := newStubHost(t, rocky9)
	stub := h.stub
	// A stock RHEL: firewalld running, SELinux enforcing, 8080 from
	// 10.0.0.8 already allowed by the admin.
	os.WriteFile(filepath.Join(stub, "active/firewalld"), nil, 0o644)
	os.WriteFile(filepath.Join(stub, "selinux"), nil, 0o644)
	h.run(filepath.Join(t.TempDir(), "admin"), firewalldOpen("pre", firewallRule{port: 8080, proto: "tcp", source: "10.0.0.8"}))
	before := enginetest.Fingerprint(t, filepath.Join(stub, "fw"))

	steps := []engine.Step{
		firewalldOpen("open 80/tcp", firewallRule{port: 80, proto: "tcp"}),
		engine.Group{Label: "8080 from the proxies", Steps: []engine.Step{
			firewalldOpen("from 10.0.0.8", firewallRule{port: 8080, proto: "tcp", source: "10.0.0.8"}),
			firewalldOpen("from fd00::9", firewallRule{port: 8080, proto: "tcp", source: "fd00::9"}),
		}},
		seBoolean("httpd_can_network_connect"),
	}
	if rc := h.run(h.state, steps...); rc.Hosts[0].Changed != 3 {
		t.Fatalf("first apply changed %d steps, want 3", rc.Hosts[0].Changed)
	}
	for _, c := range []string{"permanent", "runtime"} {
		rules := enginetest.Fingerprint(t, filepath.Join(stub, "fw", c))
		if n := strings.Count(rules, "\n"); n != 4 { // the dir + 3 rules
			t.Errorf("%s: %d entries, want dir + 3 rules:\n%s", c, n, rules)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(stub, "sebool/httpd_can_network_connect")); string(b) != "on\n" {
		t.Fatalf("boolean %q", b)
	}
	log, _ := os.ReadFile(filepath.Join(stub, "log"))
	if !strings.Contains(string(log), `rich-rule=rule family="ipv6" source address="fd00::9" port port="8080" protocol="tcp" accept`) {
		t.Fatalf("the rich rule did not reach firewall-cmd as one argument:\n%s", log)
	}
	if rc := h.run(h.state, steps...); rc.Hosts[0].Changed != 0 {
		t.Fatalf("second apply changed %d", rc.Hosts[0].Changed)
	}

	h.teardown()
	if after := enginetest.Fingerprint(t, filepath.Join(stub, "fw")); after != before {
		t.Fatalf("firewall not as before apply:\n--- before\n%s--- after\n%s", before, after)
	}
	if b, _ := os.ReadFile(filepath.Join(stub, "sebool/httpd_can_network_connect")); string(b) != "off\n" {
		t.Fatalf("boolean after teardown %q", b)
	}
}

// firewalld stopped between apply and teardown: the rule apply added is
// still taken out of the permanent configuration, so it does not return at
// the next start.
func TestFirewalldUndoWhileStopped(t *testing.T) {
	h := newStubHost(t, rocky9)
	os.WriteFile(filepath.Join(h.stub, "active/firewalld"), nil, 0o644)
	h.run(h.state, firewalldOpen("open 80/tcp", firewallRule{port: 80, proto: "tcp"}))
	os.Remove(filepath.Join(h.stub, "active/firewalld"))
	os.RemoveAll(filepath.Join(h.stub, "fw/runtime"))
	h.teardown()
	if left := enginetest.Fingerprint(t, filepath.Join(h.stub, "fw/permanent")); strings.Count(left, "\n") != 1 { // the dir alone
		t.Fatalf("permanent rules left:\n%s", left)
	}
}

// Should a probe be wrong (firewalld stopped since), the guards still hold
// where firewalld and ufw are not active and SELinux is off: every step is
// in state and nothing is journalled.
func TestFirewallStepsInStateWithoutFirewalld(t *testing.T) {
	h := newStubHost(t, debian12)
	rc := h.run(h.state, openRule("open 80/tcp", hostFilters{firewalld: true, ufw: true}, firewallRule{port: 80, proto: "tcp"}), seBoolean("httpd_can_network_connect"))
	if rc.Hosts[0].Changed != 0 || rc.Hosts[0].OK != 2 {
		t.Fatalf("%+v", rc.Hosts[0])
	}
	if log, _ := os.ReadFile(filepath.Join(h.stub, "log")); strings.Contains(string(log), "firewall-cmd") || strings.Contains(string(log), "setsebool") || strings.Contains(string(log), "ufw") {
		t.Fatalf("changed a firewall that does not run:\n%s", log)
	}
}

// ufw active (an Ubuntu whose admin enabled it with ssh allowed): apply adds
// its rules once, teardown deletes them and keeps the admin's.
func TestUfwStepsApplyThenTeardown(t *testing.T) {
	h := newStubHost(t, ubuntu22)
	os.WriteFile(filepath.Join(h.stub, "ufw"), nil, 0o644)
	os.WriteFile(filepath.Join(h.stub, "ufw-rules"), []byte("ufw allow 22/tcp\n"), 0o644)
	steps := []engine.Step{
		openRule("ssh", hostFilters{ufw: true}, firewallRule{port: 22, proto: "tcp"}),
		openRule("8080 from the proxy", hostFilters{ufw: true}, firewallRule{port: 8080, proto: "tcp", source: "10.0.0.8"}),
	}
	if rc := h.run(h.state, steps...); rc.Hosts[0].Changed != 1 {
		t.Fatalf("first apply changed %d, want 1 (ssh was open already)", rc.Hosts[0].Changed)
	}
	rules, _ := os.ReadFile(filepath.Join(h.stub, "ufw-rules"))
	if string(rules) != "ufw allow 22/tcp\nufw allow from 10.0.0.8 to any port 8080 proto tcp\n" {
		t.Fatalf("rules after apply:\n%s", rules)
	}
	if rc := h.run(h.state, steps...); rc.Hosts[0].Changed != 0 {
		t.Fatalf("second apply changed %d", rc.Hosts[0].Changed)
	}
	os.Remove(filepath.Join(h.stub, "ufw")) // disabled since: its rules stay, and teardown still removes apply's
	h.teardown()
	if rules, _ := os.ReadFile(filepath.Join(h.stub, "ufw-rules")); string(rules) != "ufw allow 22/tcp\n" {
		t.Fatalf("rules after teardown:\n%s", rules)
	}
}

// stubHost is one host of an OS family whose tools are the enginetest
// stubs (state under stub), with its own journal dir.
type stubHost struct {
	t           *testing.T
	stub, state string
	conn        *enginetest.LocalConn
	osRelease   string
}

func newStubHost(t *testing.T, osRelease string) *stubHost {
	stub, env := enginetest.Stubs(t, filepath.Join(t.TempDir(), "hostname"))
	return &stubHost{t: t, stub: stub, state: filepath.Join(t.TempDir(), "state"),
		conn: &enginetest.LocalConn{Name: "h", Env: env}, osRelease: osRelease}
}

func (s *stubHost) host() *engine.Host {
	h := engine.NewHost(s.conn, nil)
	h.Facts = engine.ParseOSRelease([]byte(s.osRelease))
	return h
}

// run converges steps, journalling into stateDir; a failure ends the test.
func (s *stubHost) run(stateDir string, steps ...engine.Step) engine.Recap {
	s.t.Helper()
	rc := engine.Run(context.Background(), []*engine.Host{s.host()}, []engine.Play{{Name: "firewall", Steps: steps}},
		engine.Options{StateDir: stateDir}, nil)
	if rc.Failed() {
		s.t.Fatalf("run: %+v", rc.Hosts[0])
	}
	return rc
}

func (s *stubHost) teardown() {
	s.t.Helper()
	if rc := teardown.Run(context.Background(), []*engine.Host{s.host()}, teardown.Options{StateDir: s.state}, nil); rc.Failed() || rc.Hosts[0].Changed == 0 {
		s.t.Fatalf("teardown: %+v", rc.Hosts[0])
	}
}

// The probe reads each filter from the host, and once per run.
func TestFiltersProbe(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  hostFilters
	}{
		{nil, hostFilters{}},
		{[]string{"active/firewalld", "selinux"}, hostFilters{firewalld: true, selinux: true}},
		{[]string{"ufw"}, hostFilters{ufw: true}},
	} {
		h := newStubHost(t, debian12)
		for _, f := range tc.files {
			os.WriteFile(filepath.Join(h.stub, f), nil, 0o644)
		}
		c := &Cluster{}
		got, err := c.filtersOf(context.Background(), h.host())
		if err != nil || got != tc.want {
			t.Errorf("%v: %+v %v, want %+v", tc.files, got, err, tc.want)
		}
		os.WriteFile(filepath.Join(h.stub, "ufw"), nil, 0o644) // too late: probed already
		if again, _ := c.filtersOf(context.Background(), h.host()); again != got {
			t.Errorf("%v: probed twice", tc.files)
		}
	}
}

// A port that moved leaves no opening behind: after the rollout, the
// opening an earlier apply made for the old port (journalled, still in
// place) is closed; the ones still wanted stay, and a second clean-up
// finds nothing to do.
func TestStaleFirewallOpeningsClosed(t *testing.T) {
	h := newStubHost(t, rocky9)
	os.WriteFile(filepath.Join(h.stub, "active/firewalld"), nil, 0o644)
	old := labArtifacts(t)
	for _, ih := range old.AllHosts() {
		if ih.Name == "t58" {
			h.conn.Name = ih.Name // the plays look the host up by name
		}
	}
	rules := func() string {
		var b strings.Builder
		files, _ := filepath.Glob(filepath.Join(h.stub, "fw", "*", "*"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			b.Write(data)
		}
		return b.String()
	}
	c, _ := NewCluster(old)
	if rc := h.run(h.state, c.firewallPlay().Steps...); rc.Hosts[0].Changed != 1 || !strings.Contains(rules(), `port="8080"`) {
		t.Fatalf("first apply: %+v\n%s", rc.Hosts[0], rules())
	}
	cm, _ := NewCluster(labArtifacts(t, "  port: 8080", "  port: 8081"))
	h.run(h.state, cm.firewallPlay().Steps...)
	if r := rules(); !strings.Contains(r, `port="8081"`) || !strings.Contains(r, `port="8080"`) {
		t.Fatalf("until the rollout is done both are open:\n%s", r)
	}
	if rc := h.run(h.state, cm.StaleFirewallStep()); rc.Hosts[0].Changed != 1 {
		t.Fatalf("clean-up: %+v", rc.Hosts[0])
	}
	if r := rules(); strings.Contains(r, `port="8080"`) || !strings.Contains(r, `port="8081"`) || !strings.Contains(r, `port="11211"`) {
		t.Errorf("after the clean-up, want 8081 and memcached's only:\n%s", r)
	}
	if rc := h.run(h.state, cm.StaleFirewallStep()); rc.Hosts[0].Changed != 0 {
		t.Errorf("a second clean-up changed %d", rc.Hosts[0].Changed)
	}
}

//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestFirewalldOnOneHost: t58 runs firewalld with its stock "public" zone,
// as a RHEL host does. Before apply opens anything, verify names exactly
// what the firewall blocks; apply then opens Tomcat's port to the proxy and
// memcached to t68 (and nothing else), a second apply changes nothing, the
// whole drill passes through the firewall, and teardown closes exactly what
// apply opened. Runs after the teardown tests: it leaves firewalld on t58,
// which only zz_down's lab removal undoes.
func TestFirewalldOnOneHost(t *testing.T) {
	ensureApplied(t)
	RunOn(t, "t58", "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends firewalld netbase >/dev/null"+
		" && systemctl start firewalld && firewall-cmd --state")
	t.Cleanup(func() { RunOn(t, "t58", "systemctl disable --now firewalld") })

	v := runVerify(t, "--no-drill")
	wantFailure(t, v, "t58", "memcached reachable from t68", "no route to host", "a firewall on t58")
	wantFailure(t, v, "t58", "tomcat port", "from proxy")
	if f := v.failed(); len(f) != 2 {
		t.Errorf("want exactly the 2 blocked paths to fail, got %q", f)
	}

	changed := ensureApplied(t).Changed()
	for _, c := range changed {
		if !strings.HasPrefix(c, "t58 firewall: ") {
			t.Errorf("unexpected change: %s", c)
		}
	}
	if len(changed) != 2 {
		t.Errorf("want the 2 firewall rules of t58 opened, got %q", changed)
	}
	rules := RunOn(t, "t58", "firewall-cmd --permanent --list-rich-rules; firewall-cmd --list-rich-rules")
	for _, want := range []string{
		`rule family="ipv4" source address="` + hostAddr(t, "proxy") + `" port port="8080" protocol="tcp" accept`,
		`rule family="ipv4" source address="` + hostAddr(t, "t68") + `" port port="11211" protocol="tcp" accept`,
	} {
		if n := strings.Count(rules, want); n != 2 { // permanent and running
			t.Errorf("rule %q found %d times, want 2 (permanent and runtime):\n%s", want, n, rules)
		}
	}
	if again := ensureApplied(t); len(again.Changed()) != 0 {
		t.Errorf("second apply changed %q", again.Changed())
	}

	waitProbe(t, 2*time.Minute)
	if v := runVerify(t); v.ExitCode != 0 {
		t.Errorf("verify through the firewall: exit %d; failures:\n%s", v.ExitCode, strings.Join(v.failed(), "\n"))
	}

	td := mustTeardown(t)
	closed := 0
	for _, c := range td.Changed() {
		if strings.HasPrefix(c, "t58 teardown: undo firewalld: ") {
			closed++
		}
	}
	if closed != 2 {
		t.Errorf("teardown closed %d firewall rules, want 2: %q", closed, td.Changed())
	}
	if left := strings.TrimSpace(RunOn(t, "t58", "firewall-cmd --permanent --list-rich-rules; firewall-cmd --list-rich-rules; firewall-cmd --list-ports")); left != "" {
		t.Errorf("firewall rules left after teardown:\n%s", left)
	}
}

package verify

import (
	"strings"
	"testing"
)

const hexA = "6A1F0C2B9D8E7F6A5B4C3D2E1F0A9B8C"

// seq builds probe answers from (session, counter) pairs; route comes from
// the id, the host name from the route, as the probe app reports them.
func seq(pairs ...any) []Probe {
	var out []Probe
	for i := 0; i < len(pairs); i += 2 {
		id := pairs[i].(string)
		p := Probe{Session: id, Counter: pairs[i+1].(int)}
		if j := strings.LastIndexByte(id, '.'); j >= 0 {
			p.Route = id[j+1:]
			p.Host = p.Route
		}
		out = append(out, p)
	}
	return out
}

// withHosts sets the machine names of answers without a jvmRoute.
func withHosts(ps []Probe, hosts ...string) []Probe {
	for i := range ps {
		ps[i].Hostname = hosts[i%len(hosts)]
		ps[i].Host = ps[i].Hostname
	}
	return ps
}

func TestJudgeStickyPasses(t *testing.T) {
	topo := labTopo(t, 0)
	id := hexA + "-n2.t58"
	first := seq(id, 1)[0]
	if err := judgeSticky(topo, labFQDNs, first, seq(id, 2, id, 3, id, 4)); err != nil {
		t.Fatal(err)
	}
}

// docs/msm.md, observed with two Tomcats alternating one cookie behind a
// round-robin balancer, without jvmRoute: 1,2,2,3,3,4.
func TestJudgeStickyRoundRobinWithoutJvmRoute(t *testing.T) {
	topo := labTopo(t, 0)
	id := hexA + "-n2"
	all := withHosts(seq(id, 1, id, 2, id, 2, id, 3, id, 3, id, 4), "t58.shone.cn", "t68.shone.cn")
	err := judgeSticky(topo, labFQDNs, all[0], all[1:])
	if err == nil {
		t.Fatal("lost updates passed")
	}
	for _, want := range []string{"LOST UPDATES", "reached t58,t68,t58,t68", "counter went 1,2,2,3,3,4", "stale copy", "nginx.balance: sticky"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("reason lacks %q: %v", want, err)
		}
	}
}

// With jvmRoute: 1,2,3,2,4,3 while the id flips between -n2.t1 and -n1.t2
// (docs/msm.md names the Tomcats t1, t2; here t58, t68).
func TestJudgeStickyRoundRobinWithJvmRoute(t *testing.T) {
	topo := labTopo(t, 0)
	a, b := hexA+"-n2.t58", hexA+"-n1.t68"
	all := seq(a, 1, b, 2, a, 3, b, 2, a, 4, b, 3)
	err := judgeSticky(topo, labFQDNs, all[0], all[1:])
	if err == nil {
		t.Fatal("lost updates passed")
	}
	for _, want := range []string{"LOST UPDATES", "counter went 1,2,3,2,4,3", "t58,t68", "session id changed from " + a + " to " + b} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("reason lacks %q: %v", want, err)
		}
	}
}

// One Tomcat, but the counter does not rise by one: updates lost anyway.
func TestJudgeStickySameHostLostUpdate(t *testing.T) {
	topo := labTopo(t, 0)
	id := hexA + "-n2.t58"
	err := judgeSticky(topo, labFQDNs, seq(id, 1)[0], seq(id, 2, id, 2, id, 3))
	if err == nil || !strings.Contains(err.Error(), "LOST UPDATES on t58") || !strings.Contains(err.Error(), "1,2,2,3") {
		t.Fatalf("err = %v", err)
	}
}

func TestJudgeNewSession(t *testing.T) {
	topo := labTopo(t, 0)
	p := func(id string) Probe {
		pr := seq(id, 1)[0]
		pr.New, pr.SetCookie = true, id
		return pr
	}
	if tc, id, err := judgeNewSession(topo, labFQDNs, p(hexA+"-n2.t58")); err != nil || tc.Host != "t58" || id.Node != "n2" {
		t.Fatalf("good session: %v %v %v", tc.Host, id, err)
	}
	cases := map[string]struct {
		probe Probe
		want  string
	}{
		"own memcached":  {p(hexA + "-n1.t58"), "its failover node"},
		"no MSM":         {p(hexA + ".t58"), "not managing"},
		"unknown route":  {p(hexA + "-n2.t99"), "jvmRoute \"t99\""},
		"unknown node":   {p(hexA + "-n7.t58"), "not in memcachedNodes"},
		"no cookie":      {func() Probe { x := p(hexA + "-n2.t58"); x.SetCookie = ""; return x }(), "no JSESSIONID cookie"},
		"not new":        {func() Probe { x := p(hexA + "-n2.t58"); x.New, x.Counter = false, 5; return x }(), "existing session"},
		"cookie differs": {func() Probe { x := p(hexA + "-n2.t58"); x.SetCookie = "X"; return x }(), "differs"},
	}
	for name, c := range cases {
		if _, _, err := judgeNewSession(topo, labFQDNs, c.probe); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	// Four nodes: t58 (n1) may use n2, n3 or n4, never n1.
	topo4 := labTopo(t, 2)
	for _, n := range []string{"n2", "n3", "n4"} {
		if _, _, err := judgeNewSession(topo4, labFQDNs, p(hexA+"-"+n+".t58")); err != nil {
			t.Errorf("ring of four, %s: %v", n, err)
		}
	}
	if _, _, err := judgeNewSession(topo4, labFQDNs, p(hexA+"-n1.t58")); err == nil {
		t.Error("ring of four: session on t58's own node passed")
	}
}

func TestJudgeMemcachedFailover(t *testing.T) {
	topo := labTopo(t, 0)
	tc, _ := topo.Tomcat("t58")
	last := seq(hexA+"-n2.t58", 21)[0]
	cases := []struct {
		p    Probe
		want verdict
		why  string
	}{
		{seq(hexA+"-n2.t58", 22)[0], notYet, "still names n2"},
		{seq(hexA+"-n1.t58", 22)[0], correct, "moved to n1, counter 22 kept"},
		{seq(hexA+"-n1.t58", 1)[0], broken, "LOST UPDATE"},
		{func() Probe { p := seq("0123456789ABCDEF0123456789ABCDEF-n1.t58", 1)[0]; p.New = true; return p }(), broken, "SESSION LOST"},
		{seq(hexA+"-n1.t58", 25)[0], broken, "from 21 to 25"},
		{seq(hexA+"-n1.t68", 22)[0], broken, "answered by t68"},
	}
	for _, c := range cases {
		v, why := judgeMemcachedFailover(topo, tc, "n2", last, c.p)
		if v != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%s #%d: verdict %d %q, want %d %q", c.p.Session, c.p.Counter, v, why, c.want, c.why)
		}
	}
}

func TestJudgeTomcatFailover(t *testing.T) {
	topo := labTopo(t, 0)
	last := seq(hexA+"-n1.t58", 22)[0]
	if v, why := judgeTomcatFailover(topo, labFQDNs, "t58", last, seq(hexA+"-n1.t68", 23)[0]); v != correct || !strings.Contains(why, "t68 took over") {
		t.Errorf("takeover: %d %q", v, why)
	}
	if v, _ := judgeTomcatFailover(topo, labFQDNs, "t58", last, seq(hexA+"-n1.t58", 23)[0]); v != notYet {
		t.Errorf("answer from the stopped Tomcat: %d", v)
	}
	if v, why := judgeTomcatFailover(topo, labFQDNs, "t58", last, seq(hexA+"-n1.t68", 1)[0]); v != broken || !strings.Contains(why, "LOST UPDATE") {
		t.Errorf("counter restarted: %d %q", v, why)
	}
}

func TestParseSessionID(t *testing.T) {
	good := map[string]SessionID{
		hexA + "-n2":              {Hex: hexA, Node: "n2"},
		hexA + "-n2.t58":          {Hex: hexA, Node: "n2", Route: "t58"},
		hexA + "-node_a.tomcat_1": {Hex: hexA, Node: "node_a", Route: "tomcat_1"},
	}
	for s, want := range good {
		got, err := ParseSessionID(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("%s: %+v %v", s, got, err)
		}
	}
	bad := map[string]string{
		"":                            "no session id",
		hexA + ".t58":                 "not managing",
		hexA:                          "not managing",
		hexA + "-n2.t58.lab":          "containing '.'",
		strings.ToLower(hexA) + "-n2": "not an MSM sticky id",
		hexA[:30] + "-n2.t58":         "not an MSM sticky id",
		hexA + "-n-2.t58":             "not an MSM sticky id",
	}
	for s, want := range bad {
		if _, err := ParseSessionID(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", s, err, want)
		}
	}
}

// The other Tomcat could not load the session and made a new one.
func TestJudgeStickyNewSessionIsLoss(t *testing.T) {
	topo := labTopo(t, 0)
	a, b := hexA+"-n2.t58", "0123456789ABCDEF0123456789ABCDEF-n1.t68"
	all := seq(a, 1, a, 2, b, 1, a, 3)
	err := judgeSticky(topo, labFQDNs, all[0], all[1:])
	if err == nil || !strings.Contains(err.Error(), "a NEW session: the session was lost") {
		t.Fatalf("err = %v", err)
	}
}

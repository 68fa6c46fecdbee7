//go:build e2e

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/lab"
)

// TestRingOfThreeTomcats rebuilds the lab with three Tomcat hosts (t58,
// t68, t78) and proves the N-host topology for real: each Tomcat lists all
// three nodes and fails over to its own, new sessions go to another host's
// memcached, apply converges in one run and then changes nothing, and the
// whole drill passes. The suite's lab is back when it ends.
func TestRingOfThreeTomcats(t *testing.T) {
	l := replaceLab(t, 3, labOpts.MSMJars)
	if len(l.Hosts) != 4 {
		t.Fatalf("hosts %v, want proxy + 3 Tomcats", l.Hosts)
	}

	ensureApplied(t)
	if again := ensureApplied(t).Changed(); len(again) != 0 {
		t.Errorf("second apply changed %q", again)
	}
	for host, want := range map[string][]string{
		"t58": {`memcachedNodes="n1:10.250.0.58:11211,n2:10.250.0.68:11211,n3:10.250.0.78:11211"`, `failoverNodes="n1"`},
		"t68": {`failoverNodes="n2"`},
		"t78": {`failoverNodes="n3"`},
	} {
		ctxXML := RunOn(t, host, "cat /usr/local/tomcat/conf/context.xml")
		for _, w := range want {
			if !strings.Contains(ctxXML, w) {
				t.Errorf("%s: context.xml lacks %s:\n%s", host, w, ctxXML)
			}
		}
	}

	waitProbe(t, 2*time.Minute)
	v := runVerify(t)
	if v.ExitCode != 0 {
		t.Fatalf("verify on three Tomcats: exit %d; failures:\n%s", v.ExitCode, strings.Join(v.failed(), "\n"))
	}
	// With three nodes MSM puts a new session on a random primary node
	// (any but the Tomcat's own failover node): never on its own.
	first := v.find(t, "cluster", "1 new session")
	for host, own := range map[string]string{"t58": "n1", "t68": "n2", "t78": "n3"} {
		if !strings.Contains(first.Reason, host+" -> n") || strings.Contains(first.Reason, host+" -> "+own) {
			t.Errorf("drill step 1: %s's new session must go to another host's node, not %s: %s", host, own, first.Reason)
		}
	}
	for _, s := range drillSteps {
		c := v.find(t, "cluster", s)
		t.Logf("drill %s: %s, latency %d ms: %s", s, c.Status, c.LatencyMS, c.Reason)
	}

	// The ring rolls a context.xml change like two Tomcats do: one at a
	// time, under load, with nothing lost (after the drill, which may have
	// left MSM needing the rollout's heal).
	res, rep := applyUnderLoad(t, variantInventory(t, "ring-optimeout", "msm:\n", "msm:\n  operation_timeout: 1500ms\n"))
	if res.ExitCode != 0 {
		t.Fatalf("rolled apply on the ring: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout, 20))
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t68,t78" {
		t.Errorf("ring rollout restarted %q, want t58,t68,t78", got)
	}
	if rep.Requests < 200 || !rep.Clean() {
		t.Errorf("ring rollout under load: %s; want 0 failed, 0 lost, 0 stale", rep)
	}
}

// replaceLab brings up a new lab of tomcats Tomcat hosts running the MSM
// jars in msmJars ("" = the stand-in) in place of the current one, and the
// suite's own lab back when the test ends, so the tests after it find the
// lab they expect, pristine.
func replaceLab(t *testing.T, tomcats int, msmJars string) *lab.Lab {
	t.Helper()
	opts := labOpts
	opts.Tomcats, opts.MSMJars = tomcats, msmJars
	t.Cleanup(func() { bringUp(t, labOpts) })
	return bringUp(t, opts)
}

func bringUp(t *testing.T, opts lab.Options) *lab.Lab {
	t.Helper()
	opts.Log = os.Stderr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, err := lab.Up(ctx, opts)
	if err != nil {
		t.Fatalf("lab up --tomcats %d (msm jars %q): %v", opts.Tomcats, opts.MSMJars, err)
	}
	testLab = l
	recordPristine()
	return l
}

// The ring's rollout, ten times under load, and its gate with one path
// cut: every run rolls all three Tomcats with 0 failed, 0 lost, 0 stale;
// then t78 can no longer reach t58's memcached (n1; its packets dropped,
// so its connection still looks established), and every restart of t68,
// whose sessions partly live on n1 and would fail over to t78, is stopped
// by the gate before anything is drained.
func TestRingRollsTenTimesAndItsGateSeesEveryNode(t *testing.T) {
	replaceLab(t, 3, labOpts.MSMJars)
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	var requests int
	for i := 1; i <= 10; i++ {
		l := startLoad(t)
		time.Sleep(time.Second)
		res := RunLab(t, "restart", "tomcat")
		time.Sleep(time.Second)
		rep := l.Stop()
		requests += rep.Requests
		t.Logf("ring rollout %d: exit %d, %s", i, res.ExitCode, rep)
		if res.ExitCode != 0 || strings.Join(rolledHosts(res), ",") != "t58,t68,t78" || !rep.Clean() {
			t.Fatalf("ring rollout %d: exit %d, rolled %v, load %s:\n%s", i, res.ExitCode, rolledHosts(res), rep, lastLines(res.Stdout+res.Stderr, 12))
		}
	}
	t.Logf("10 of 10 ring rollouts clean: %d requests, 0 failed, 0 lost, 0 stale", requests)

	n1 := hostAddr(t, "t58")
	purgePackagesAtEnd(t, "t78", "")
	RunOn(t, "t78", "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends nftables >/dev/null")
	t.Cleanup(func() { RunOn(t, "t78", "nft delete table inet e2e 2>/dev/null; true") })
	RunOn(t, "t78", "nft add table inet e2e && nft add chain inet e2e out '{ type filter hook output priority 0; }' && "+
		"nft add rule inet e2e out ip daddr "+n1+" tcp dport 11211 drop")
	short := variantInventory(t, "ring-gate", "\nnginx:\n", "\nrollout:\n  ready_timeout: 20s\n\nnginx:\n")
	for i := 1; i <= 10; i++ {
		res := runCmd(t, invCmd(t, short, "restart", "tomcat", "--hosts", "t68"))
		out := res.Stdout + res.Stderr
		if res.ExitCode != 1 || !strings.Contains(out, "t68 -> t78: t78 could not load") || strings.Contains(out, `"step":"drain t68"`) {
			t.Fatalf("gate run %d with t78 cut from n1: exit %d, want 1 naming t68 -> t78 before any drain:\n%s", i, res.ExitCode, lastLines(out, 10))
		}
	}
	t.Logf("10 of 10 restarts of t68 stopped by the gate with t78 cut from n1")
	RunOn(t, "t78", "nft delete table inet e2e")
	if res := RunLab(t, "restart", "tomcat"); res.ExitCode != 0 {
		t.Errorf("with the path back: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 10))
	}
}

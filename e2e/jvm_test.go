//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// JVM options set in the inventory (a heap, a GC option, a system
// property) roll across the cluster like any Tomcat change: under 20
// sessions of load 0 failed, 0 lost, 0 stale; every Tomcat's running JVM
// then has them on its own command line (verify reads /proc); a second
// apply changes nothing; the lab's inventory again takes them out.
func TestJVMOptionsRollUnderLoad(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	t.Cleanup(func() { ensureApplied(t) })
	inv := variantInventory(t, "jvm", "  port: 8080\n", "  port: 8080\n  heap_mb: 256\n  java_opts: [-XX:+UseSerialGC, -Dclusterctl.e2e=jvm]\n  max_threads: 150\n")
	l := startLoad(t)
	time.Sleep(time.Second)
	res := runCmd(t, invCmd(t, inv, "apply"))
	time.Sleep(time.Second)
	rep := l.Stop()
	t.Logf("JVM options applied under load: exit %d; %s", res.ExitCode, rep)
	if res.ExitCode != 0 {
		t.Fatalf("apply with JVM options: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 15))
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t68" {
		t.Errorf("rolled %q, want t58,t68", got)
	}
	if rep.Requests < 200 || !rep.Clean() {
		t.Errorf("under load: %s; want 0 failed, 0 lost, 0 stale; samples %q", rep, rep.Samples)
	}
	for _, h := range []string{"t58", "t68"} {
		cmdline := RunOn(t, h, `tr '\0' ' ' < /proc/$(systemctl show -p MainPID --value tomcat)/cmdline`)
		for _, o := range []string{"-Xms256m", "-Xmx256m", "-XX:+UseSerialGC", "-Dclusterctl.e2e=jvm"} {
			if !strings.Contains(cmdline, " "+o+" ") {
				t.Errorf("%s: the running JVM lacks %s: %s", h, o, cmdline)
			}
		}
		if n := strings.TrimSpace(RunOn(t, h, `grep -c 'maxThreads="150"' /usr/local/tomcat/conf/server.xml || true`)); n != "1" {
			t.Errorf("%s: server.xml has no maxThreads=150", h)
		}
	}
	v := runCmd(t, invCmd(t, inv, "verify", "--no-drill"))
	seen := 0
	for _, line := range strings.Split(v.Stdout, "\n") {
		var c struct{ Host, Check, Status, Reason string }
		if json.Unmarshal([]byte(line), &c) == nil && c.Check == "tomcat runs java.home" {
			seen++
			if c.Status != "ok" || !strings.Contains(c.Reason, "-Dclusterctl.e2e=jvm") {
				t.Errorf("verify on %s: %s %s", c.Host, c.Status, c.Reason)
			}
		}
	}
	if v.ExitCode != 0 || seen != 2 {
		t.Errorf("verify --no-drill with JVM options: exit %d, %d JVM checks (want 2)", v.ExitCode, seen)
	}
	assertNoChanges(t, runCmd(t, invCmd(t, inv, "apply")))
}

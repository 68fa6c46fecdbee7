//go:build e2e

package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Two applies started at the same moment on one cluster: exactly one
// converges, the other stops before changing anything and names the run
// that holds the lock. Then a run killed with SIGKILL leaves its lock
// behind, and the next run takes it over with a notice.
func TestOneRunAtATime(t *testing.T) {
	ensureApplied(t)
	t.Cleanup(func() { ensureApplied(t) })
	// A change that rolls both Tomcats, so each run lasts seconds.
	inv := variantInventory(t, "lock-optimeout", "  request_uri_ignore_pattern:", "  operation_timeout: 2s\n  request_uri_ignore_pattern:")
	var cmds [2]*exec.Cmd
	var errs [2]bytes.Buffer
	for i := range cmds {
		cmds[i] = invCmd(t, inv, "apply")
		cmds[i].Stderr = &errs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	codes := [2]int{}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				codes[i] = ee.ExitCode()
			}
		}
	}
	t.Logf("exit codes %v", codes)
	won, lost := 0, -1
	for i, code := range codes {
		switch code {
		case 0:
			won++
		case 1:
			lost = i
		}
	}
	if won != 1 || lost < 0 {
		t.Fatalf("want one run to converge and one to exit 1; exits %v\n%s\n%s", codes, errs[0].String(), errs[1].String())
	}
	if msg := errs[lost].String(); !strings.Contains(msg, "is locked by another clusterctl run") || !strings.Contains(msg, `running "clusterctl apply"`) || !strings.Contains(msg, "nothing was changed") {
		t.Errorf("the refused run says: %s", msg)
	}
	assertNoChanges(t, runCmd(t, invCmd(t, inv, "apply")))

	// kill -9 in the middle of a rollout: the lock stays, the next run
	// takes it over (and finishes what the killed one left).
	killed := labCmd(t, "restart", "tomcat")
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := TryRunOn("proxy", "test -e /run/lock/clusterctl/holder"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			killed.Process.Kill()
			t.Fatal("restart never took the lock")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // into the rollout
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	if _, _, err := TryRunOn("proxy", "test -e /run/lock/clusterctl/holder"); err != nil {
		t.Fatal("the killed run's lock is gone already; the test proves nothing")
	}
	next := runCmd(t, invCmd(t, inv, "apply"))
	if next.ExitCode != 0 || !strings.Contains(next.Stderr, "took over the run lock of a run that is gone") {
		t.Errorf("after kill -9: exit %d, stderr %s", next.ExitCode, lastLines(next.Stderr, 5))
	}
	for _, h := range HostNames() {
		if _, _, err := TryRunOn(h, "test ! -e /run/lock/clusterctl"); err != nil {
			t.Errorf("%s: a lock is left after the run ended", h)
		}
	}
}

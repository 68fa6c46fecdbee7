//go:build e2e

package e2e

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// A host whose network drops in the middle of apply fails alone: the other
// hosts converge, the run ends non-zero naming it, and once the link is
// back a re-run converges everything with nothing left to change after.
func TestApplyHostLinkDropConverges(t *testing.T) {
	ensureApplied(t)
	// Give t58 seconds of work (a whole Tomcat to unpack again), and t68 a
	// little, so the drop lands while t58 is busy and t68 has work of its own.
	RunOn(t, "t58", `systemctl stop tomcat && rm -rf "$(readlink -f /usr/local/tomcat)"`)
	RunOn(t, "t68", "echo '# drift' >> /etc/memcached.conf")

	cmd := applyCmd(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dropped := false
	t.Cleanup(func() {
		if dropped {
			LinkUp(t, "t58")
		}
	})
	var lines []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !dropped && strings.Contains(sc.Text(), `"host":"t58"`) && strings.Contains(sc.Text(), `"status":"changed"`) {
			LinkDown(t, "t58") // t58 has just started changing things
			dropped = true
		}
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err = <-waitErr:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("apply did not give up on the dropped host within 3 minutes")
	}
	if !dropped {
		t.Fatalf("t58 changed nothing before apply ended; the test proves nothing:\n%s", strings.Join(lines, "\n"))
	}
	if err == nil {
		t.Fatal("apply exited 0 although t58's link dropped mid-run")
	}
	var res RunResult
	parseEvents(t, []byte(strings.Join(lines, "\n")), &res)
	for _, h := range res.PerHost {
		failed := h.Failed > 0 || h.Error != ""
		if (h.Host == "t58") != failed {
			t.Errorf("host %s: failed=%v error=%q; only t58 may fail", h.Host, failed, h.Error)
		}
	}
	if out := RunOn(t, "t68", "cat /etc/memcached.conf"); strings.Contains(out, "# drift") {
		t.Error("t68 did not converge while t58 was unreachable")
	}

	LinkUp(t, "t58")
	dropped = false
	res = ensureApplied(t)
	t.Logf("re-run after the drop changed:\n%s", strings.Join(res.Changed(), "\n"))
	assertNoChanges(t, ensureApplied(t))
	assertServicesActive(t)
	waitProbe(t, 2*time.Minute)
}

//go:build e2e

package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A no-op apply reads each host's state in one batch: it opens at most
// 10 SSH session channels per host, and the count it reports (client
// side, from the transport) is the one t58's sshd logged, at LogLevel
// DEBUG1, where every channel a client opens is a "ctype session" line.
func TestNoopApplyOpensAHandfulOfSSHSessions(t *testing.T) {
	ensureApplied(t)
	const dropIn = "/etc/ssh/sshd_config.d/zz-clusterctl-e2e-debug.conf"
	RunOn(t, "t58", "printf 'LogLevel DEBUG1\\n' > "+dropIn+" && systemctl reload ssh")
	t.Cleanup(func() { RunOn(t, "t58", "rm -f "+dropIn+" && systemctl reload ssh") })
	time.Sleep(500 * time.Millisecond) // the reloaded sshd serves the next connection

	// The containers share this machine's clock, so the apply's start and
	// end bound its lines in t58's journal, and this test's own ssh
	// commands fall outside them.
	start := time.Now().Add(-100 * time.Millisecond)
	res := RunApply(t)
	end := time.Now().Add(100 * time.Millisecond)
	if res.ExitCode != 0 {
		t.Fatalf("no-op apply exited %d: %v", res.ExitCode, res.Failures())
	}
	if c := res.Changed(); len(c) != 0 {
		t.Fatalf("no-op apply changed: %v", c)
	}
	for _, h := range HostNames() {
		n, ok := res.Sessions[h]
		switch {
		case !ok:
			t.Errorf("%s: no ssh_sessions line in the apply's output", h)
		case n > 10:
			t.Errorf("%s: no-op apply opened %d SSH session channels; want at most 10", h, n)
		}
	}
	time.Sleep(time.Second) // journald has every line of the apply
	out := RunOn(t, "t58", fmt.Sprintf("journalctl -t sshd -t sshd-session --since=@%.3f --until=@%.3f -o cat | grep -c 'server_input_channel_open: ctype session' || true",
		float64(start.UnixMilli())/1000, float64(end.UnixMilli())/1000))
	logged, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("count of sshd's session lines: %q", out)
	}
	t.Logf("no-op apply: SSH session channels %v (client side); t58's sshd logged %d", res.Sessions, logged)
	if int64(logged) != res.Sessions["t58"] {
		t.Errorf("t58's sshd logged %d session channels, the apply reported %d", logged, res.Sessions["t58"])
	}
}

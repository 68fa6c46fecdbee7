//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Helpers for tests against the lab. Each fails the test on error, so tests
// read as a script. Hosts are named as in the inventory: proxy, t58, t68.

// commandTimeout bounds one RunOn; apt-get install on a cold cache is the
// slowest thing the tests do.
const commandTimeout = 5 * time.Minute

// RunOn runs cmd as root on host over SSH (lab key, pinned host keys) and
// returns its stdout; a non-zero exit fails the test with stderr.
func RunOn(t testing.TB, host, cmd string) string {
	t.Helper()
	out, errOut, err := TryRunOn(host, cmd)
	if err != nil {
		t.Fatalf("%s: %q: %v\nstdout:\n%s\nstderr:\n%s", host, cmd, err, out, errOut)
	}
	return out
}

// TryRunOn is RunOn for commands that are expected to fail sometimes.
func TryRunOn(host, cmd string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	c, err := testLab.Dial(ctx, host)
	if err != nil {
		return "", "", fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", "", err
	}
	defer s.Close()
	var o, e bytes.Buffer
	s.Stdout, s.Stderr = &o, &e
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		c.Close()
		err = fmt.Errorf("timed out after %s", commandTimeout)
	}
	return o.String(), e.String(), err
}

// StopHost powers host off (clean shutdown, SIGKILL after 10 s).
func StopHost(t testing.TB, host string) {
	t.Helper()
	if err := testLab.StopHost(context.Background(), host); err != nil {
		t.Fatal(err)
	}
}

// StartHost boots a stopped host and waits until its sshd answers.
func StartHost(t testing.TB, host string) {
	t.Helper()
	if err := testLab.StartHost(context.Background(), host); err != nil {
		t.Fatal(err)
	}
}

// StopService stops a systemd unit on host.
func StopService(t testing.TB, host, unit string) {
	t.Helper()
	RunOn(t, host, "systemctl stop "+shellQuote(unit))
}

// StartService starts a systemd unit on host.
func StartService(t testing.TB, host, unit string) {
	t.Helper()
	RunOn(t, host, "systemctl start "+shellQuote(unit))
}

// LinkDown cuts host off the lab network (its veth's outer end goes down);
// the host keeps running.
func LinkDown(t testing.TB, host string) {
	t.Helper()
	if err := testLab.LinkDown(context.Background(), host); err != nil {
		t.Fatal(err)
	}
}

// LinkUp reconnects a host cut off by LinkDown.
func LinkUp(t testing.TB, host string) {
	t.Helper()
	if err := testLab.LinkUp(context.Background(), host); err != nil {
		t.Fatal(err)
	}
}

// HostNames lists the lab's hosts, proxy first.
func HostNames() []string {
	var out []string
	for _, h := range testLab.Hosts {
		out = append(out, h.Name)
	}
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// logProxyTrail logs what the proxy and the Tomcats saw since a time:
// nginx's errors, every access-log line that was not one first-try 200 (a
// failover shows as two upstreams), and what each Tomcat logged about
// memcached, so a failed load test says which Tomcat answered what.
func logProxyTrail(t *testing.T, since time.Time) {
	t.Helper()
	out, _, _ := TryRunOn("proxy", `tail -n 20 /var/log/nginx/error.log 2>/dev/null; echo "--- access log (not a first-try 200, the last 40):"; `+
		`grep -v 'upstream_status="200"' /var/log/nginx/access.log 2>/dev/null | tail -n 40; echo "--- t58 cookies answered by t68:"; grep 'c=[^ ]*t58' /var/log/nginx/access.log | grep 'upstream="10.250.0.68' | head -n 20`)
	t.Logf("proxy's trail:\n%s", out)
	for _, h := range []string{"t58", "t68"} {
		out, _, _ := TryRunOn(h, fmt.Sprintf(`journalctl -u tomcat --no-pager -o short-precise --since=@%d | grep -i -E 'memcached|msm|reconnect|session' | tail -n 30`, since.Unix()))
		t.Logf("%s's Tomcat on memcached since the load began:\n%s", h, out)
	}
}

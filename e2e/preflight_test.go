//go:build e2e

package e2e

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// preflightFailures lists "host check: found" for every failed preflight
// event of a run.
func preflightFailures(t *testing.T, res RunResult) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(res.Stdout, "\n") {
		if !strings.Contains(l, `"type":"preflight"`) || !strings.Contains(l, `"status":"failed"`) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// driftEverywhere makes a change on every host that apply would revert,
// so that "nothing changed" is seen, not assumed: after a stopped apply
// the drift must still be there.
const driftLine = "# e2e preflight drift"

var driftFiles = map[string]string{"proxy": "/etc/nginx/nginx.conf", "t58": "/etc/memcached.conf", "t68": "/etc/memcached.conf"}

func driftEverywhere(t *testing.T) {
	for h, f := range driftFiles {
		RunOn(t, h, "grep -qx '"+driftLine+"' "+f+" || echo '"+driftLine+"' >> "+f)
	}
}

// assertUntouched checks that a stopped run changed nothing: the drift is
// still on every host, and every host's fingerprint is what it was.
func assertUntouched(t *testing.T, before map[string]string, res RunResult) {
	t.Helper()
	if n := len(res.Changed()); n > 0 {
		t.Errorf("the run changed %d step(s) although its preflight failed:\n%s", n, strings.Join(res.Changed(), "\n"))
	}
	for h, f := range driftFiles {
		if out := strings.TrimSpace(RunOn(t, h, "grep -cx '"+driftLine+"' "+f+" || true")); out != "1" {
			t.Errorf("%s: the drift in %s is gone: apply ran", h, f)
		}
	}
	for _, h := range HostNames() {
		if d := fingerprintDiff(before[h], fingerprintHost(t, h)); d != "" {
			t.Errorf("%s changed although the preflight failed:\n%s", h, d)
		}
	}
}

func fingerprints(t *testing.T) map[string]string {
	fp := map[string]string{}
	for _, h := range HostNames() {
		fp[h] = fingerprintHost(t, h)
	}
	return fp
}

// wantStopped asserts the run ended in its preflight, naming host and
// check in a failure that contains every one of words.
func wantStopped(t *testing.T, res RunResult, host, check string, words ...string) {
	t.Helper()
	if res.ExitCode != 1 {
		t.Errorf("exit %d, want 1", res.ExitCode)
	}
	if !strings.Contains(res.Stderr, "nothing was changed on any host") {
		t.Errorf("stderr: %q", res.Stderr)
	}
	for _, l := range preflightFailures(t, res) {
		if !strings.Contains(l, `"host":"`+host+`"`) || !strings.Contains(l, `"check":"`+check+`"`) {
			continue
		}
		for _, w := range words {
			if !strings.Contains(l, w) {
				t.Errorf("%s %s failed without naming %q: %s", host, check, w, l)
			}
		}
		t.Logf("%s %s: %s", host, check, l)
		return
	}
	t.Errorf("no failed %s check on %s; preflight failures: %q", check, host, preflightFailures(t, res))
}

func TestPreflightOnAppliedLabPassesAndChangesNothing(t *testing.T) {
	ensureApplied(t)
	before := fingerprints(t)
	res := RunLab(t, "preflight")
	if res.ExitCode != 0 {
		t.Fatalf("preflight on a healthy lab: exit %d: %q %s", res.ExitCode, preflightFailures(t, res), res.Stderr)
	}
	// Every check passes on every host; the clock is one result per host too.
	if n, want := strings.Count(res.Stdout, `"status":"ok"`), len(HostNames())*len(preflight.Checks); n != want {
		t.Errorf("%d ok checks, want %d (%d per host: %v)", n, want, len(preflight.Checks), preflight.Checks)
	}
	if !strings.Contains(res.Stdout, `"check":"memory","status":"ok","found":"448 MiB of `) {
		t.Errorf("t58's memory check does not count memcached's 64 MiB and the reserve: %s", res.Stdout)
	}
	for _, h := range HostNames() {
		if d := fingerprintDiff(before[h], fingerprintHost(t, h)); d != "" {
			t.Errorf("%s: preflight changed the host:\n%s", h, d)
		}
	}
}

// Each fault stops apply in its preflight, named, with every host as it was.
func TestPreflightFaultsStopApplyBeforeAnyChange(t *testing.T) {
	ensureApplied(t)
	driftEverywhere(t)
	t.Cleanup(func() { ensureApplied(t) })

	t.Run("port held on t58", func(t *testing.T) {
		RunOn(t, "t58", `systemctl stop tomcat
echo 'use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die "listen: $!"; sleep 600;' > /root/e2e-squat.pl
systemctl reset-failed e2e-squatter 2>/dev/null; systemd-run -q --unit=e2e-squatter perl /root/e2e-squat.pl
for i in 1 2 3 4 5 6 7 8 9 10; do ss -Htln 'sport = :8080' | grep -q . && break; sleep 0.2; done`)
		t.Cleanup(func() {
			RunOn(t, "t58", "systemctl stop e2e-squatter; rm -f /root/e2e-squat.pl; systemctl start tomcat")
		})
		before := fingerprints(t)
		res := RunApply(t)
		wantStopped(t, res, "t58", "ports", "8080", "perl", "e2e-squatter.service", "not by tomcat.service")
		assertUntouched(t, before, res)
		if st := strings.TrimSpace(RunOn(t, "t58", "systemctl is-active tomcat || true")); st != "inactive" {
			t.Errorf("tomcat on t58 is %s: apply started it past a failed preflight", st)
		}
		v := RunLab(t, "verify", "--no-drill")
		if !strings.Contains(v.Stdout, `"check":"preflight ports"`) || !strings.Contains(v.Stdout, "e2e-squatter.service") {
			t.Errorf("verify's health does not report the squatter:\n%s", lastLines(v.Stdout, 8))
		}
	})

	t.Run("dpkg lock held on t68", func(t *testing.T) {
		// A real dpkg holding its locks: --set-selections locks the
		// database while it reads a stdin that stays open.
		RunOn(t, "t68", `setsid sh -c 'sleep 60 | dpkg --set-selections' >/dev/null 2>&1 < /dev/null &
for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -x dpkg >/dev/null && break; sleep 0.2; done`)
		t.Cleanup(func() { RunOn(t, "t68", "pkill -x dpkg; pkill -x -f 'sleep 60'; true") })
		before := fingerprints(t)
		cmd := applyCmd(t)
		cmd.Env = append(os.Environ(), "CLUSTERCTL_PREFLIGHT_LOCK_WAIT=3s")
		res := runCmd(t, cmd)
		wantStopped(t, res, "t68", "package-lock", "dpkg", "/var/lib/dpkg/lock", "after 3s")
		assertUntouched(t, before, res)
	})

	t.Run("address that is not t68's", func(t *testing.T) {
		// t68 reached through a forward on the lab machine's bridge
		// address: SSH works, but 10.250.0.1 is no address of t68.
		fwd := forward(t, "10.250.0.1:0", hostAddr(t, "t68")+":22")
		_, port, _ := net.SplitHostPort(fwd)
		kh := knownHostsWith(t, func(line string) string {
			if strings.HasPrefix(line, hostAddr(t, "t68")+",") {
				return line + "\n[10.250.0.1]:" + port + " " + strings.SplitN(line, " ", 2)[1]
			}
			return line
		})
		inv := variantInventory(t, "preflight-address", "    address: "+hostAddr(t, "t68")+"\n",
			"    address: 10.250.0.1\n    ssh: {port: "+port+"}\n")
		inv = withKnownHosts(t, inv, kh)
		before := fingerprints(t)
		res := runCmd(t, invCmd(t, inv, "apply"))
		wantStopped(t, res, "t68", "address", "10.250.0.1 is not an address of this host", hostAddr(t, "t68"))
		assertUntouched(t, before, res)
	})

	t.Run("too little free disk", func(t *testing.T) {
		before := fingerprints(t)
		cmd := applyCmd(t)
		cmd.Env = append(os.Environ(), "CLUSTERCTL_PREFLIGHT_MIN_FREE_MB=1000000000")
		res := runCmd(t, cmd)
		wantStopped(t, res, "t58", "disk", "not enough free space", "must keep 1000000000 MiB free")
		assertUntouched(t, before, res)
	})

	t.Run("changed host key of t68", func(t *testing.T) {
		var proxyKey string
		knownHostsWith(t, func(line string) string {
			if strings.HasPrefix(line, hostAddr(t, "proxy")+",") {
				proxyKey = strings.SplitN(line, " ", 2)[1]
			}
			return line
		})
		kh := knownHostsWith(t, func(line string) string {
			if strings.HasPrefix(line, hostAddr(t, "t68")+",") {
				return strings.SplitN(line, " ", 2)[0] + " " + proxyKey
			}
			return line
		})
		inv := withKnownHosts(t, testLab.Inventory, kh)
		before := fingerprints(t)
		res := runCmd(t, invCmd(t, inv, "apply", "--accept-new-host-keys"))
		wantStopped(t, res, "t68", "connect", "host key")
		assertUntouched(t, before, res)
	})
}

// knownHostsWith writes a copy of the lab's known_hosts with every line
// passed through edit, and returns its path.
func knownHostsWith(t *testing.T, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(testLab.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		out = append(out, edit(l))
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withKnownHosts writes a copy of inventory inv that uses known_hosts kh.
func withKnownHosts(t *testing.T, inv, kh string) string {
	t.Helper()
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	old := `known_hosts: "` + testLab.KnownHosts + `"`
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %s", inv, old)
	}
	p := filepath.Join(filepath.Dir(inv), "kh-"+filepath.Base(inv))
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, `known_hosts: "`+kh+`"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// forward relays TCP connections from listen (on the lab bridge) to to,
// until the test ends; it returns the address it listens on.
func forward(t *testing.T, listen, to string) string {
	t.Helper()
	return sshtest.Serve(t, listen, func(c net.Conn) {
		defer c.Close()
		u, err := net.DialTimeout("tcp", to, 5*time.Second)
		if err != nil {
			return
		}
		defer u.Close()
		go io.Copy(u, c)
		io.Copy(c, u)
	})
}

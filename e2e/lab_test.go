//go:build e2e

package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Every host boots to a running systemd with its own identity.
func TestHostsBoot(t *testing.T) {
	if len(testLab.Hosts) != 3 {
		t.Fatalf("want 3 hosts (proxy, t58, t68), got %d", len(testLab.Hosts))
	}
	ids := map[string]string{}
	for _, h := range testLab.Hosts {
		state, _, _ := TryRunOn(h.Name, "systemctl is-system-running --wait")
		if strings.TrimSpace(state) != "running" {
			t.Errorf("%s: system state %q; failed units:\n%s", h.Name, strings.TrimSpace(state),
				RunOn(t, h.Name, "systemctl --failed --no-legend"))
		}
		addr := RunOn(t, h.Name, "ip -4 -o addr show dev eth0 | awk '{print $4}'")
		if got, want := strings.TrimSpace(addr), h.Address+"/24"; got != want {
			t.Errorf("%s: eth0 address %q, want %q", h.Name, got, want)
		}
		id := strings.TrimSpace(RunOn(t, h.Name, "cat /etc/machine-id"))
		if other, dup := ids[id]; dup || len(id) != 32 {
			t.Errorf("%s: machine-id %q (shared with %q?)", h.Name, id, other)
		}
		ids[id] = h.Name
	}
}

// Each host answers with the key pinned in the generated known_hosts and
// takes the lab key; a wrong pinned key and a wrong client key are refused,
// which proves both checks are real.
func TestSSHHostKeys(t *testing.T) {
	for _, h := range testLab.Hosts {
		if got := RunOn(t, h.Name, "echo ok"); got != "ok\n" {
			t.Errorf("%s: %q", h.Name, got)
		}
	}

	// known_hosts that pins t68's key for t58's address and names.
	lines := map[string]string{}
	b, err := os.ReadFile(testLab.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && !strings.HasPrefix(l, "#") {
			lines[strings.Split(f[0], ",")[1]] = f[0] + " " // name -> hosts field
			lines[strings.Split(f[0], ",")[1]+".key"] = f[1] + " " + f[2]
		}
	}
	wrong := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(wrong, []byte(lines["t58"]+lines["t68.key"]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := testLab.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	wrongCB, err := knownhosts.New(wrong)
	if err != nil {
		t.Fatal(err)
	}
	bad := *cfg
	bad.HostKeyCallback = wrongCB
	_, err = ssh.Dial("tcp", net.JoinHostPort(hostAddr(t, "t58"), "22"), &bad)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Errorf("t58 with t68's key pinned: want a host key mismatch, got %v", err)
	}

	// Unknown host: empty known_hosts.
	empty := filepath.Join(t.TempDir(), "empty_known_hosts")
	os.WriteFile(empty, nil, 0o644)
	emptyCB, _ := knownhosts.New(empty)
	bad.HostKeyCallback = emptyCB
	_, err = ssh.Dial("tcp", net.JoinHostPort(hostAddr(t, "t58"), "22"), &bad)
	if !errors.As(err, &ke) || len(ke.Want) != 0 {
		t.Errorf("t58 with empty known_hosts: want an unknown-host error, got %v", err)
	}

	// A key the hosts have never seen.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	stranger := *cfg
	stranger.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	if c, err := ssh.Dial("tcp", net.JoinHostPort(hostAddr(t, "t58"), "22"), &stranger); err == nil {
		c.Close()
		t.Error("t58 accepted a key that is not the lab key")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("stranger key: want an authentication failure, got %v", err)
	}
}

// The hosts reach the bridge (and apt-cacher-ng on it) and nothing else:
// their only routes are the lab subnet and a default via the bridge, and
// the bridge forwards nothing (whatever the machine's global setting) and
// carries no IPv6. No outside address is contacted.
func TestNetworkConfinement(t *testing.T) {
	for f, want := range map[string]string{"/proc/sys/net/ipv4/conf/br-lab/forwarding": "0", "/proc/sys/net/ipv6/conf/br-lab/disable_ipv6": "1"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
	for _, h := range testLab.Hosts {
		routes := strings.Split(strings.TrimSpace(RunOn(t, h.Name, "ip -4 route show table all | grep -v '^local\\|^broadcast'")), "\n")
		want := []string{
			"default via 10.250.0.1 dev eth0",
			"10.250.0.0/24 dev eth0 proto kernel scope link src " + h.Address,
		}
		if len(routes) != len(want) {
			t.Errorf("%s: routes\n%s\nwant\n%s", h.Name, strings.Join(routes, "\n"), strings.Join(want, "\n"))
			continue
		}
		for i := range want {
			if strings.TrimSpace(routes[i]) != want[i] {
				t.Errorf("%s: route %q, want %q", h.Name, routes[i], want[i])
			}
		}
		links := RunOn(t, h.Name, "ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\\n' ' '")
		if strings.TrimSpace(links) != "eth0 lo" {
			t.Errorf("%s: interfaces %q, want only eth0 and lo", h.Name, links)
		}
		// The apt proxy on the bridge is reachable.
		RunOn(t, h.Name, "timeout 5 bash -c 'exec 3<>/dev/tcp/10.250.0.1/3142'")
	}
	// Hosts reach each other over the bridge.
	RunOn(t, "t58", "timeout 5 bash -c 'exec 3<>/dev/tcp/"+hostAddr(t, "t68")+"/22'")
}

// apt works inside a host through apt-cacher-ng, and what it installs runs
// (and is purged again: the host is left as the test found it).
func TestAptThroughProxy(t *testing.T) {
	leavesAsFound(t, "t58")
	purgePackagesAtEnd(t, "t58", "")
	start := time.Now()
	RunOn(t, "t58", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q memcached")
	t.Logf("apt-get update + install memcached: %s", time.Since(start).Round(100*time.Millisecond))
	if got := strings.TrimSpace(RunOn(t, "t58", "systemctl is-active memcached")); got != "active" {
		t.Fatalf("memcached is %q", got)
	}
	reply := RunOn(t, "t58", `timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211; printf "version\r\n" >&3; head -1 <&3'`)
	if !strings.HasPrefix(reply, "VERSION 1.6") {
		t.Errorf("memcached answered %q", reply)
	}
}

// The helpers that later tests use to break things do what they say. The
// dummy unit goes again at the end: the host is left as the test found it.
func TestHostServiceAndLinkControl(t *testing.T) {
	leavesAsFound(t, "t68")
	t.Cleanup(func() {
		RunOn(t, "t68", "systemctl stop e2e-dummy; rm -f /etc/systemd/system/e2e-dummy.service && systemctl daemon-reload")
	})
	t.Run("service", func(t *testing.T) {
		RunOn(t, "t68", `printf '[Service]\nExecStart=/bin/sleep infinity\n' > /etc/systemd/system/e2e-dummy.service && systemctl daemon-reload && systemctl start e2e-dummy`)
		StopService(t, "t68", "e2e-dummy")
		if out, _, _ := TryRunOn("t68", "systemctl is-active e2e-dummy"); strings.TrimSpace(out) != "inactive" {
			t.Errorf("after StopService: %q", out)
		}
		StartService(t, "t68", "e2e-dummy")
		if out := RunOn(t, "t68", "systemctl is-active e2e-dummy"); strings.TrimSpace(out) != "active" {
			t.Errorf("after StartService: %q", out)
		}
	})

	t.Run("host", func(t *testing.T) {
		id := RunOn(t, "t68", "cat /etc/machine-id")
		start := time.Now()
		StopHost(t, "t68")
		t.Logf("StopHost: %s", time.Since(start).Round(100*time.Millisecond))
		if _, _, err := TryRunOn("t68", "true"); err == nil {
			t.Fatal("t68 still answers after StopHost")
		}
		start = time.Now()
		StartHost(t, "t68")
		t.Logf("StartHost: %s", time.Since(start).Round(100*time.Millisecond))
		// Same tree, so the same identity and what was installed before.
		if got := RunOn(t, "t68", "cat /etc/machine-id"); got != id {
			t.Errorf("machine-id changed across restart: %q -> %q", id, got)
		}
		RunOn(t, "t68", "test -f /etc/systemd/system/e2e-dummy.service")
	})

	t.Run("link", func(t *testing.T) {
		LinkDown(t, "proxy")
		defer LinkUp(t, "proxy")
		c, err := net.DialTimeout("tcp", net.JoinHostPort(hostAddr(t, "proxy"), "22"), 2*time.Second)
		if err == nil {
			c.Close()
			t.Fatal("proxy reachable with its link down")
		}
		LinkUp(t, "proxy")
		// The bridge port forwards again at once (no STP); allow ARP a moment.
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, _, err := TryRunOn("proxy", "true"); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("proxy unreachable after LinkUp: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

func hostAddr(t testing.TB, name string) string {
	t.Helper()
	h, err := testLab.Host(name)
	if err != nil {
		t.Fatal(err)
	}
	return h.Address
}

// Hosts have CAP_SYS_TIME (for chrony) but must not set the clock they share
// with the outer machine. Probed with calls that change nothing even if the
// guard were missing: settimeofday(NULL, NULL) is a no-op that succeeds with
// the capability, clock_settime on an invalid clock fails with EINVAL; the
// guard turns both into EPERM.
func TestClockIsGuarded(t *testing.T) {
	const probe = `perl -e '$r = syscall(164, 0, 0); print $r == -1 ? $!+0 : 0, " "; $r = syscall(227, -1, 0); print $!+0, "\n"'`
	for _, h := range testLab.Hosts {
		if got := strings.TrimSpace(RunOn(t, h.Name, probe)); got != "1 1" { // 1 = EPERM
			t.Errorf("%s: settimeofday/clock_settime errno = %q, want \"1 1\" (EPERM)", h.Name, got)
		}
		if got := RunOn(t, h.Name, "grep -c -- ' -x$' /etc/systemd/system/chrony.service.d/clusterctl-lab-no-clock.conf"); strings.TrimSpace(got) != "1" {
			t.Errorf("%s: chrony drop-in missing", h.Name)
		}
	}
}

// `lab down` with a global flag it cannot honour (--dry-run: it has no
// plan to show) refuses with exit 2 and leaves every host running, where
// it once really tore the lab down.
func TestLabDownDryRunLeavesTheLabUp(t *testing.T) {
	for _, args := range [][]string{{"--dry-run"}, {"--hosts", "t58"}} {
		cmd := exec.Command(clusterctlBin(t), append([]string{"lab", "down", "--dir", testLab.Dir}, args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("lab down %v: %v, want exit 2\n%s", args, err, out)
		}
		for _, h := range testLab.Hosts {
			if got, _, err := TryRunOn(h.Name, "echo up"); err != nil || got != "up\n" {
				t.Fatalf("after lab down %v: %s does not answer (%v): the lab was torn down", args, h.Name, err)
			}
		}
	}
}

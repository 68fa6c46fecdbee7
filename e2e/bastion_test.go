//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// The seed's hosts sit on a private network an operator reaches through a
// jump host. Here t58 and t68 are made to accept SSH only from the proxy's
// address; then apply, verify and teardown must work through the proxy as
// bastion, named in the inventory or found in ~/.ssh/config alone.
func TestReachedOnlyThroughTheProxy(t *testing.T) {
	ensureApplied(t)
	proxy := hostAddr(t, "proxy")
	// The direct runs the bastion's must match: teardown to pristine and
	// apply again, twice, so that the compared cycle starts from what a
	// cycle leaves (the first also clears what earlier tests left, which
	// would count as one more change).
	var directDown, directUp, firstDown RunResult
	for i := range 2 {
		directDown, directUp = RunLab(t, "teardown"), RunApply(t)
		if directDown.ExitCode != 0 || directUp.ExitCode != 0 {
			t.Fatalf("direct: teardown exit %d, apply exit %d", directDown.ExitCode, directUp.ExitCode)
		}
		if i == 0 {
			firstDown = directDown
		}
	}
	if extra := onlyIn(changedSteps(firstDown), changedSteps(directDown)); len(extra) > 0 {
		t.Logf("the first teardown also undid what earlier tests left: %q", extra)
	}
	directNoop := RunApply(t)
	t.Logf("direct: teardown %s, pristine apply %s (%d changed)", directDown.Wall.Round(time.Millisecond), directUp.Wall.Round(time.Millisecond), len(directUp.Changed()))

	restrictSSH(t, proxy)
	t.Cleanup(func() { unrestrictSSH(t) })
	if _, _, err := TryRunOn("t58", "true"); err == nil {
		t.Fatal("t58 still accepts a direct login: the restriction the test depends on is not in place")
	}
	direct := runCmd(t, labCmd(t, "preflight"))
	if direct.ExitCode != 1 || !strings.Contains(direct.Stdout+direct.Stderr, "t58: login as root refused") {
		t.Fatalf("the plain lab inventory should fail to reach t58 now; exit %d\n%s%s", direct.ExitCode, direct.Stdout, direct.Stderr)
	}

	t.Run("inventory bastion", func(t *testing.T) {
		inv := variantInventory(t, "bastion", "\nssh:\n", "\nssh:\n  bastion: {address: "+proxy+"}\n")
		plan := dryRunText(t, inv, nil)
		for _, want := range []string{"#   t58: root@10.250.0.58:22", "#     bastion          root@" + proxy + ":22 (keys", "(inventory ssh.bastion)", "none: this host is the bastion"} {
			if !strings.Contains(plan, want) {
				t.Errorf("the dry run's SSH settings lack %q:\n%s", want, sshSettingsOf(plan))
			}
		}
		viaDown := runCmd(t, invCmd(t, inv, "teardown"))
		viaUp := runCmd(t, invCmd(t, inv, "apply"))
		if viaDown.ExitCode != 0 || viaUp.ExitCode != 0 {
			t.Fatalf("through the bastion: teardown exit %d, apply exit %d\n%s\n%s", viaDown.ExitCode, viaUp.ExitCode,
				strings.Join(append(viaDown.Failures(), viaUp.Failures()...), "\n"), lastLines(viaUp.Stderr, 20))
		}
		viaNoop := runCmd(t, invCmd(t, inv, "apply"))
		t.Logf("through the bastion: teardown %s, pristine apply %s (%d changed)", viaDown.Wall.Round(time.Millisecond), viaUp.Wall.Round(time.Millisecond), len(viaUp.Changed()))
		// The recap through the bastion is the direct run's: teardown's and
		// a no-op apply's per host, and the pristine apply's changed steps.
		// Not its handlers: a handler's outcome (restart now, defer to the
		// rollout, nothing to do) can depend on how far the other hosts
		// got, which may differ from run to run whatever the route.
		for _, c := range []struct {
			what        string
			via, direct RunResult
		}{{"teardown", viaDown, directDown}, {"no-op apply", viaNoop, directNoop}} {
			if a, b := fmt.Sprint(c.via.PerHost), fmt.Sprint(c.direct.PerHost); a != b {
				t.Errorf("%s: recap through the bastion %s\ndiffers from the direct recap %s\nchanged only through the bastion %q, only directly %q", c.what, a, b,
					onlyIn(changedSteps(c.via), changedSteps(c.direct)), onlyIn(changedSteps(c.direct), changedSteps(c.via)))
			}
		}
		if a, b := onlyIn(changedSteps(viaUp), changedSteps(directUp)), onlyIn(changedSteps(directUp), changedSteps(viaUp)); len(a)+len(b) > 0 {
			t.Errorf("pristine apply: changed only through the bastion %q, only directly %q", a, b)
		}
		if v := runCmd(t, invCmd(t, inv, "verify")); v.ExitCode != 0 {
			t.Fatalf("verify (with the drill) through the bastion exited %d:\n%s\n%s", v.ExitCode, lastLines(v.Stdout, 30), lastLines(v.Stderr, 10))
		}

		// A bastion whose host key is not the one on record is refused,
		// and the message says it was the bastion.
		wrong := filepath.Join(t.TempDir(), "known_hosts")
		line := knownHostsLine(t, "10.250.0.58")
		os.WriteFile(wrong, []byte(strings.Replace(line, "10.250.0.58", proxy, 1)+"\n"), 0o600)
		bad := variantInventory(t, "bastion-wrong-key", "\nssh:\n", "\nssh:\n  bastion: {address: "+proxy+", known_hosts: "+wrong+"}\n")
		res := runCmd(t, invCmd(t, bad, "apply"))
		out := res.Stdout + res.Stderr
		if res.ExitCode != 1 || !strings.Contains(out, "t58: via bastion root@"+proxy+":22: host key for "+proxy+" has CHANGED") {
			t.Fatalf("exit %d; want 1 and t58's error naming the bastion's changed key:\n%s", res.ExitCode, lastLines(out, 20))
		}
		if n := len(res.Changed()); n != 0 {
			t.Fatalf("%d steps changed with a refused bastion", n)
		}
	})

	t.Run("ssh_config alone", func(t *testing.T) {
		// The inventory has no ssh section at all; a temp HOME's
		// ~/.ssh/config reaches t58 and t68 on a second sshd (port 2222,
		// also proxy-only) through ProxyJump.
		for _, h := range []string{"t58", "t68"} {
			runVia(t, proxy, h, "/usr/sbin/sshd -p 2222 -o PidFile=/run/sshd-e2e-2222.pid -E /run/sshd-e2e-2222.log -o AllowUsers=root@"+proxy)
			t.Cleanup(func() {
				runVia(t, proxy, h, "kill $(cat /run/sshd-e2e-2222.pid) 2>/dev/null; rm -f /run/sshd-e2e-2222.log /run/sshd-e2e-2222.pid")
			})
		}
		home := t.TempDir()
		os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
		kh := filepath.Join(home, ".ssh", "known_hosts")
		os.WriteFile(kh, []byte(strings.Join([]string{
			knownHostsLine(t, proxy),
			strings.Replace(knownHostsLine(t, "10.250.0.58"), "10.250.0.58", "[10.250.0.58]:2222", 1),
			strings.Replace(knownHostsLine(t, "10.250.0.68"), "10.250.0.68", "[10.250.0.68]:2222", 1),
		}, "\n")+"\n"), 0o600)
		config := fmt.Sprintf(`# written by the e2e test
Host jump
  HostName %s
  User root
  IdentityFile %s
Host t58 t68
  User root
  Port 2222
  IdentityFile %s
  ProxyJump jump
Host proxy
  HostName %s
  IdentityFile %s
`, proxy, testLab.KeyFile, testLab.KeyFile, proxy, testLab.KeyFile)
		os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(config), 0o600)
		inv := noSSHInventory(t)
		env := []string{"HOME=" + home}
		plan := dryRunText(t, inv, env)
		for _, want := range []string{
			"#   t58: root@10.250.0.58:2222",
			"#     port             2222  (~/.ssh/config:8)",
			"#     user             root  (~/.ssh/config:7)",
			"#     key files        " + testLab.KeyFile + "  (~/.ssh/config:9)",
			"#     bastion          root@" + proxy + ":22 (keys " + testLab.KeyFile,
			"(~/.ssh/config:10 (ProxyJump))",
			"#     known_hosts      ~/.ssh/known_hosts  (default)",
		} {
			if !strings.Contains(plan, want) {
				t.Errorf("the dry run's SSH settings lack %q:\n%s", want, sshSettingsOf(plan))
			}
		}
		cmd := invCmd(t, inv, "apply")
		cmd.Env = append(os.Environ(), env...)
		res := runCmd(t, cmd)
		if res.ExitCode != 0 {
			t.Fatalf("apply with ~/.ssh/config alone exited %d:\n%s\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"), lastLines(res.Stderr, 20))
		}
		assertNoChanges(t, res)
		for _, h := range []string{"t58", "t68"} {
			if log := runVia(t, proxy, h, "cat /run/sshd-e2e-2222.log"); !strings.Contains(log, "Accepted publickey for root from "+proxy) {
				t.Errorf("%s's sshd on port 2222 saw no login from the proxy:\n%s", h, log)
			}
		}
	})
}

// restrictSSH makes t58's and t68's sshd accept logins from the proxy's
// address only. A reload keeps the listening socket (ssh.socket hands it
// over), so sessions in flight survive. unrestrictSSH lifts it through the
// proxy, the one way left in.
func restrictSSH(t *testing.T, proxy string) {
	t.Helper()
	for _, h := range []string{"t58", "t68"} {
		RunOn(t, h, "printf '# e2e: reachable only through the proxy\\nAllowUsers root@"+proxy+"\\n' > /etc/ssh/sshd_config.d/00-e2e-bastion-only.conf && sshd -t && systemctl reload ssh")
	}
}

func unrestrictSSH(t *testing.T) {
	t.Helper()
	for _, h := range []string{"t58", "t68"} {
		runVia(t, hostAddr(t, "proxy"), h, "if [ -e /etc/ssh/sshd_config.d/00-e2e-bastion-only.conf ]; then rm /etc/ssh/sshd_config.d/00-e2e-bastion-only.conf && systemctl reload ssh; fi")
	}
	RunOn(t, "t58", "true") // direct again
}

// runVia runs cmd as root on host through an SSH connection to the proxy,
// the way OpenSSH's ProxyJump does.
func runVia(t *testing.T, proxy, host, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	jump, err := testLab.Dial(ctx, "proxy")
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	defer jump.Close()
	addr := net.JoinHostPort(hostAddr(t, host), "22")
	nc, err := jump.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("proxy -> %s: %v", addr, err)
	}
	cfg, err := testLab.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		t.Fatalf("ssh %s through the proxy: %v", host, err)
	}
	c := ssh.NewClient(sc, chans, reqs)
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var o, e bytes.Buffer
	s.Stdout, s.Stderr = &o, &e
	if err := s.Run(cmd); err != nil {
		t.Fatalf("%s through the proxy: %q: %v\n%s", host, cmd, err, e.String())
	}
	return o.String()
}

// dryRunText is `apply --dry-run` in text mode, where the SSH settings are printed.
func dryRunText(t *testing.T, inv string, env []string) string {
	t.Helper()
	cmd := exec.Command(clusterctlBin(t), "-i", inv, "apply", "--dry-run")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apply --dry-run: %v\n%s", err, lastLines(string(out), 30))
	}
	return string(out)
}

func sshSettingsOf(plan string) string {
	i := strings.Index(plan, "# SSH settings")
	if i < 0 {
		return "(no SSH settings printed)\n" + lastLines(plan, 20)
	}
	end := strings.Index(plan[i:], "\n\n")
	if end < 0 {
		return plan[i:]
	}
	return plan[i : i+end]
}

// knownHostsLine is the lab's known_hosts entry for addr, as "addr type key".
func knownHostsLine(t *testing.T, addr string) string {
	t.Helper()
	b, err := os.ReadFile(testLab.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && strings.Split(f[0], ",")[0] == addr {
			return addr + " " + f[1] + " " + f[2]
		}
	}
	t.Fatalf("no known_hosts line for %s", addr)
	return ""
}

// noSSHInventory is the lab inventory without its ssh section.
func noSSHInventory(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(testLab.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^ssh:\n(?:[ #].*\n|\n)*`).ReplaceAllString(string(b), "")
	if strings.Contains(text, "\nssh:") || strings.Contains(text, "key_files") {
		t.Fatalf("the ssh section is still there:\n%s", text)
	}
	p := filepath.Join(filepath.Dir(testLab.Inventory), "no-ssh.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// changedSteps is "host play: step" of every changed step (handlers left out).
func changedSteps(r RunResult) []string {
	var out []string
	for _, e := range r.Steps {
		if e.Type == "step" && e.Status == "changed" {
			out = append(out, e.Host+" "+e.Play+": "+e.Step)
		}
	}
	return out
}

func onlyIn(a, b []string) []string {
	in := map[string]int{}
	for _, s := range b {
		in[s]++
	}
	var out []string
	for _, s := range a {
		if in[s] > 0 {
			in[s]--
			continue
		}
		out = append(out, s)
	}
	return out
}

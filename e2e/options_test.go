//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/loadgen"
)

const labJava = "java:\n  install: tarball            # tarball (the seed's way) or package (distro OpenJDK)\n  tarball: jdk-17-linux-x64.tar.gz\n"

// java.install: package with a JRE package that has no
// /usr/lib/jvm/default-java: apply links java.home to the package's own
// Java home, the Tomcats roll onto it without a failed request, verify
// sees Tomcat run that JVM, and a second apply changes nothing. Before the
// fix the same inventory failed `tomcat ready: not ready after 2m0s`.
func TestJavaPackageInstall(t *testing.T) {
	ensureApplied(t)
	t.Cleanup(func() {
		res := ensureApplied(t) // back to the tarball JDK
		if !strings.Contains(strings.Join(res.Changed(), "\n"), "symlink /usr/local/jdk") {
			t.Errorf("switching back to the tarball did not relink java.home:\n%s", strings.Join(res.Changed(), "\n"))
		}
		if out := RunOn(t, "t58", "readlink -f /proc/$(systemctl show -p MainPID --value tomcat)/exe"); !strings.HasPrefix(out, "/usr/local/jdk-") {
			t.Errorf("after switching back Tomcat runs %s", out)
		}
		for _, h := range []string{"t58", "t68"} {
			if out := RunOn(t, h, "dpkg-query -W -f='${db:Status-Abbrev}' openjdk-17-jre-headless 2>/dev/null || true"); strings.HasPrefix(out, "ii") {
				t.Errorf("%s: the package JDK is still installed after switching back to the tarball", h)
			}
		}
	})
	inv := variantInventory(t, "java-package", labJava, "java:\n  install: package\n  package: openjdk-17-jre-headless\n")
	res, rep := applyUnderLoad(t, inv)
	if res.ExitCode != 0 {
		t.Fatalf("apply with java.install: package: exit %d:\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"))
	}
	if !rep.Clean() {
		t.Errorf("switching the JDK under load: %s; want 0 failed, 0 lost, 0 stale", rep)
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t68" {
		t.Errorf("the new JVM rolled onto %q, want t58,t68", got)
	}
	for _, h := range []string{"t58", "t68"} {
		if out := strings.TrimSpace(RunOn(t, h, "readlink /usr/local/jdk; readlink -f /proc/$(systemctl show -p MainPID --value tomcat)/exe")); out != "/usr/lib/jvm/java-17-openjdk-amd64\n/usr/lib/jvm/java-17-openjdk-amd64/bin/java" {
			t.Errorf("%s: java.home and Tomcat's JVM: %q", h, out)
		}
	}
	v := runCmd(t, invCmd(t, inv, "verify"))
	if v.ExitCode != 0 || !strings.Contains(v.Stdout, `"check":"tomcat runs java.home","status":"ok","reason":"/usr/lib/jvm/java-17-openjdk-amd64/bin/java`) {
		t.Errorf("verify on the package JDK: exit %d:\n%s", v.ExitCode, lastLines(v.Stdout, 12))
	}
	assertNoChanges(t, runCmd(t, invCmd(t, inv, "apply")))

	bad := variantInventory(t, "java-not-java", labJava, "java:\n  install: package\n  package: bash\n")
	b := runCmd(t, invCmd(t, bad, "apply"))
	if b.ExitCode != 1 || !strings.Contains(strings.Join(b.Failures(), "\n"), "java.package bash installed no Java runtime") {
		t.Errorf("a package that is no Java: exit %d:\n%s", b.ExitCode, strings.Join(b.Failures(), "\n"))
	}
}

// optionCycle applies a variant inventory (under load when the change
// keeps the proxy's address: every restart rolls), then checks that verify
// passes with the drill and that a second apply changes nothing.
func optionCycle(t *testing.T, inv string, underLoad bool, args ...string) (RunResult, loadgen.Report) {
	t.Helper()
	var res RunResult
	var rep loadgen.Report
	if underLoad {
		res, rep = applyUnderLoad(t, inv)
	} else {
		res = runCmd(t, invCmd(t, inv, "apply", args...))
	}
	if res.ExitCode != 0 {
		t.Fatalf("apply: exit %d:\n%s\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"), lastLines(res.Stderr, 5))
	}
	v := runCmd(t, invCmd(t, inv, "verify"))
	if v.ExitCode != 0 {
		t.Errorf("verify: exit %d:\n%s", v.ExitCode, lastLines(v.Stdout, 15))
	}
	assertNoChanges(t, runCmd(t, invCmd(t, inv, "apply")))
	return res, rep
}

// disruptiveCycle: a change no rollout keeps unnoticed is refused on the
// live cluster (exit 2, every host untouched), then made with --disruptive.
func disruptiveCycle(t *testing.T, inv string, names ...string) {
	t.Helper()
	before := fingerprints(t)
	res := runCmd(t, invCmd(t, inv, "apply"))
	if res.ExitCode != 2 {
		t.Errorf("a disruptive change without --disruptive: exit %d, want 2\n%s", res.ExitCode, lastLines(res.Stderr, 5))
	}
	for _, n := range names {
		if !strings.Contains(res.Stderr, n) {
			t.Errorf("the refusal does not name %s: %s", n, res.Stderr)
		}
	}
	for _, h := range HostNames() {
		if d := fingerprintDiff(before[h], fingerprintHost(t, h)); d != "" {
			t.Errorf("%s changed although apply refused:\n%s", h, d)
		}
	}
	optionCycle(t, inv, false, "--disruptive")
}

// The options matrix: each variant is applied to the applied lab,
// verified with the drill, re-applied without a change, and switched back
// by the next variant (or the cleanup) with no trace of its old value.
func TestOptionMatrix(t *testing.T) {
	ensureApplied(t)
	t.Cleanup(func() { ensureApplied(t) })

	t.Run("ip_hash with async backup", func(t *testing.T) {
		inv := variantInventory(t, "opt-iphash",
			"  balance: sticky ", "  balance: ip_hash ",
			"  request_uri_ignore_pattern:", "  session_backup_async: true\n  request_uri_ignore_pattern:")
		// Async backup trades exactly this: a session's last change may
		// not be in memcached yet when the drain moves the session (MSM's
		// own default; apply warns). Failed requests and lost sessions
		// must still be 0; the stale answers are counted and reported.
		_, rep := optionCycle(t, inv, true)
		if rep.Failed != 0 || rep.Lost != 0 {
			t.Errorf("async backup under a rollout: %s; want 0 failed, 0 lost", rep)
		}
		t.Logf("async backup under a rollout: %d stale answers of %d requests", rep.Stale, rep.Requests)
		if out := RunOn(t, "proxy", "grep -c ip_hash /etc/nginx/nginx.conf"); strings.TrimSpace(out) == "0" {
			t.Error("nginx.conf does not balance by ip_hash")
		}
		if out := RunOn(t, "t58", "grep -o 'sessionBackupAsync=\"[a-z]*\"' /usr/local/tomcat/conf/context.xml"); strings.TrimSpace(out) != `sessionBackupAsync="true"` {
			t.Errorf("context.xml: %q", out)
		}
	})

	t.Run("MSM and memcached options", func(t *testing.T) {
		inv := variantInventory(t, "opt-msm",
			"  max_connections: 1024\n", "  max_connections: 2048\n",
			`  request_uri_ignore_pattern: '.*\.(ico|png|gif|jpg|jpeg|css|js|html|txt)$'`,
			`  request_uri_ignore_pattern: '.*\.(ico|png|css|js)$'`)
		if _, rep := optionCycle(t, inv, true); !rep.Clean() {
			t.Errorf("apply under load: %s; want 0 failed, 0 lost, 0 stale", rep)
		}
		if out := RunOn(t, "t58", "cat /usr/local/tomcat/conf/context.xml"); !strings.Contains(out, `requestUriIgnorePattern=".*\.(ico|png|css|js)$"`) {
			t.Errorf("context.xml lacks the options:\n%s", out)
		}
		if out := RunOn(t, "t68", "ps -o args= -C memcached"); !strings.Contains(out, "-c 2048") {
			t.Errorf("memcached runs %q, want -c 2048", out)
		}
	})

	t.Run("storage key prefix", func(t *testing.T) {
		inv := variantInventory(t, "opt-prefix",
			"  request_uri_ignore_pattern:", "  storage_key_prefix: static:e2e,host\n  request_uri_ignore_pattern:")
		disruptiveCycle(t, inv, "msm.storage_key_prefix")
		if out := RunOn(t, "t58", "cat /usr/local/tomcat/conf/context.xml"); !strings.Contains(out, `storageKeyPrefix="static:e2e,host"`) {
			t.Errorf("context.xml lacks the prefix:\n%s", out)
		}
		back := runCmd(t, invCmd(t, testLab.Inventory, "apply", "--disruptive"))
		if back.ExitCode != 0 {
			t.Fatalf("back to no prefix: exit %d: %s", back.ExitCode, lastLines(back.Stderr, 5))
		}
	})

	t.Run("non-default ports", func(t *testing.T) {
		t.Cleanup(func() { // whatever failed, the next subtest finds the default ports
			if t.Failed() {
				runCmd(t, invCmd(t, testLab.Inventory, "apply", "--disruptive"))
			}
		})
		inv := variantInventory(t, "opt-ports",
			"  port: 8080\n", "  port: 8081\n  shutdown_port: 8006\n",
			"memcached:\n  port: 11211\n", "memcached:\n  port: 11311\n",
			"  listen: 80\n", "  listen: 8088\n")
		disruptiveCycle(t, inv, "tomcat.port", "memcached.port", "nginx.listen")
		for h, want := range map[string][]string{"t58": {":8081", ":11311", "127.0.0.1]:8006"}, "proxy": {":8088"}} {
			out := RunOn(t, h, "ss -Htln")
			for _, w := range want {
				if !strings.Contains(out, w+" ") {
					t.Errorf("%s does not listen on %s:\n%s", h, w, out)
				}
			}
		}
		back := runCmd(t, invCmd(t, testLab.Inventory, "apply", "--disruptive")) // back: the old ports leave no trace
		if back.ExitCode != 0 {
			t.Fatalf("back to the default ports: exit %d: %s", back.ExitCode, lastLines(back.Stderr, 5))
		}
		for h, gone := range map[string][]string{"t58": {":8081 ", ":11311 ", ":8006 "}, "proxy": {":8088 "}} {
			out := RunOn(t, h, "ss -Htln; grep -rs -e 8081 -e 11311 -e 8088 /etc/nginx/nginx.conf /etc/memcached.conf /usr/local/tomcat/conf/server.xml /usr/local/tomcat/conf/context.xml || true")
			for _, g := range gone {
				if strings.Contains(out, g) {
					t.Errorf("%s still has %s after switching back:\n%s", h, g, out)
				}
			}
		}
	})

	t.Run("time from a server outside the inventory", func(t *testing.T) {
		ntpServer(t, "10.250.0.1:123")
		inv := variantInventory(t, "opt-ntp", "  ntp_servers: [proxy.shone.cn]\n", "  ntp_servers: [10.250.0.1]\n")
		optionCycle(t, inv, false)
		for _, h := range HostNames() {
			if out := RunOn(t, h, "chronyc -n sources"); !strings.Contains(out, "10.250.0.1") {
				t.Errorf("%s: chrony does not use 10.250.0.1:\n%s", h, out)
			}
		}
		if out := RunOn(t, "proxy", "grep -c '^allow' /etc/chrony/chrony.conf || true"); strings.TrimSpace(out) != "0" {
			t.Errorf("the proxy still serves time (%s allow lines) when no host takes time from it", out)
		}
		ensureApplied(t) // back: the proxy serves again, 10.250.0.1 is gone
		for _, h := range []string{"t58", "t68"} {
			if out := RunOn(t, h, "cat /etc/chrony/chrony.conf"); strings.Contains(out, "10.250.0.1") {
				t.Errorf("%s: chrony.conf still names 10.250.0.1 after switching back", h)
			}
		}
	})

	t.Run("ssh on another port", func(t *testing.T) {
		// A second sshd on 2222 beside the lab's: the lab's own takes its
		// socket from systemd (ssh.socket), and reloading it with Port lines
		// of its own left all three hosts without SSH on 22.
		for _, h := range HostNames() {
			RunOn(t, h, "rm -f /run/sshd-e2e.log; /usr/sbin/sshd -p 2222 -o PidFile=/run/sshd-e2e.pid -E /run/sshd-e2e.log")
		}
		t.Cleanup(func() {
			for _, h := range HostNames() {
				RunOn(t, h, "kill $(cat /run/sshd-e2e.pid) 2>/dev/null; rm -f /run/sshd-e2e.pid /run/sshd-e2e.log; true")
			}
		})
		kh := knownHostsWith(t, func(line string) string {
			addr, rest, _ := strings.Cut(line, ",")
			if strings.HasPrefix(addr, "10.250.0.") {
				return line + "\n[" + addr + "]:2222 " + strings.SplitN(rest, " ", 2)[1]
			}
			return line
		})
		inv := withKnownHosts(t, variantInventory(t, "opt-sshport", "ssh:\n  user: root\n  port: 22\n", "ssh:\n  user: root\n  port: 2222\n"), kh)
		res, _ := optionCycle(t, inv, false)
		if n := len(res.Changed()); n != 0 {
			t.Errorf("only the SSH port changed, yet apply changed %d steps", n)
		}
		for _, h := range HostNames() { // the logins came through the second sshd
			if n := strings.TrimSpace(RunOn(t, h, "grep -c 'Accepted publickey for root' /run/sshd-e2e.log || true")); n == "0" || n == "" {
				t.Errorf("%s: no login on port 2222", h)
			}
		}
	})

	t.Run("non-root user with sudo", func(t *testing.T) {
		for _, h := range HostNames() {
			RunOn(t, h, `command -v sudo >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo >/dev/null
for u in ops opspw; do id $u >/dev/null 2>&1 || useradd -m -s /bin/bash $u; install -d -m 700 -o $u -g $u /home/$u/.ssh; install -m 600 -o $u -g $u /root/.ssh/authorized_keys /home/$u/.ssh/authorized_keys; done
echo 'ops ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/e2e-ops; echo 'opspw ALL=(ALL) ALL' > /etc/sudoers.d/e2e-opspw; echo 'opspw:e2e-secret' | chpasswd`)
		}
		t.Cleanup(func() {
			for _, h := range HostNames() {
				RunOn(t, h, "rm -f /etc/sudoers.d/e2e-ops /etc/sudoers.d/e2e-opspw; userdel -r ops 2>/dev/null; userdel -r opspw 2>/dev/null; true")
			}
		})
		inv := variantInventory(t, "opt-sudo", "ssh:\n  user: root\n", "ssh:\n  user: ops\n")
		optionCycle(t, inv, false)
		driftEverywhere(t)
		before := fingerprints(t)
		pw := variantInventory(t, "opt-sudo-pw", "ssh:\n  user: root\n", "ssh:\n  user: opspw\n  sudo_password_env: E2E_SUDO_PW\n")
		withPW := func(verb, value string) RunResult {
			cmd := invCmd(t, pw, verb)
			cmd.Env = append(os.Environ(), "E2E_SUDO_PW="+value)
			return runCmd(t, cmd)
		}
		// A wrong password stops the preflight, names the variable, not
		// the value, and leaves every host as it was.
		res := withPW("apply", "not-the-password")
		wantStopped(t, res, "t58", "sudo", "E2E_SUDO_PW")
		assertUntouched(t, before, res)
		if strings.Contains(res.Stdout+res.Stderr, "not-the-password") {
			t.Error("the wrong password is in apply's output")
		}
		// The right one: apply converges through sudo -S and a second
		// apply finds nothing to do.
		res = withPW("apply", "e2e-secret")
		if res.ExitCode != 0 {
			t.Fatalf("apply as opspw with its sudo password: exit %d:\n%s\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"), lastLines(res.Stderr, 5))
		}
		assertNoChanges(t, withPW("apply", "e2e-secret"))
		if strings.Contains(res.Stdout+res.Stderr, "e2e-secret") {
			t.Error("the sudo password is in apply's output")
		}
		for _, h := range HostNames() { // sudo really asked and was answered
			if n := strings.TrimSpace(RunOn(t, h, "journalctl -q --since -10min -t sudo | grep -c 'opspw : .*COMMAND=' || true")); n == "0" {
				t.Errorf("%s: no sudo by opspw in the journal", h)
			}
		}
	})
}

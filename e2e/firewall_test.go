//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestHostFirewalls: t58 runs firewalld with its stock "public" zone (as a
// RHEL host does) and t68 runs ufw with only ssh allowed (as an Ubuntu
// admin would set it). Before apply opens anything, verify names exactly
// what the firewalls block; apply then opens Tomcat's port to the proxy and
// memcached to the other Tomcat host (and nothing else), a second apply
// changes nothing, the whole drill passes through both firewalls, and
// teardown, with firewalld stopped and ufw disabled by then, still takes
// out exactly what apply opened, keeping the admin's ssh rule.
// The firewalls are purged at the end, so the hosts are pristine again
// after a teardown.
func TestHostFirewalls(t *testing.T) {
	ensureApplied(t)
	const install = "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "
	purgePackagesAtEnd(t, "t58", "")
	purgePackagesAtEnd(t, "t68", "")
	RunOn(t, "t58", install+"firewalld netbase >/dev/null && systemctl start firewalld && firewall-cmd --state")
	t.Cleanup(func() { RunOn(t, "t58", "systemctl disable --now firewalld") })
	RunOn(t, "t68", install+"ufw >/dev/null && ufw allow 22/tcp && ufw --force enable")
	t.Cleanup(func() { RunOn(t, "t68", "ufw --force disable") })

	v := runVerify(t, "--no-drill")
	wantFailure(t, v, "t58", "memcached reachable from t68", "no route to host", "a firewall on t58")
	wantFailure(t, v, "t58", "tomcat port", "from proxy", "a firewall on t58")
	wantFailure(t, v, "t68", "memcached reachable from t58", "a firewall on t68") // ufw drops: a timeout
	wantFailure(t, v, "t68", "tomcat port", "from proxy", "a firewall on t68")
	// nginx reaches neither Tomcat: the proxy's route fails too.
	wantFailure(t, v, "proxy", "proxy .jsp route", "HTTP 504")
	// And so no Tomcat could take over another's sessions.
	wantFailure(t, v, "cluster", "msm takeover", "MSM is not whole")
	if f := v.failed(); len(f) != 6 {
		t.Errorf("want exactly the 4 blocked paths, the proxy route and the takeover to fail, got %q", f)
	}

	changed := ensureApplied(t).Changed()
	for _, c := range changed {
		if !strings.HasPrefix(c, "t58 firewall: ") && !strings.HasPrefix(c, "t68 firewall: ") {
			t.Errorf("unexpected change: %s", c)
		}
	}
	if len(changed) != 2 || !strings.Contains(strings.Join(changed, "\n"), "8080/tcp (tomcat) from proxy (firewalld); firewall: 11211/tcp (memcached) from t68 (firewalld)") {
		t.Errorf("want one firewall step on each of t58 and t68, opening Tomcat's and memcached's ports, got %q", changed)
	}
	rules := RunOn(t, "t58", "firewall-cmd --permanent --list-rich-rules; firewall-cmd --list-rich-rules")
	for _, want := range []string{
		`rule family="ipv4" source address="` + hostAddr(t, "proxy") + `" port port="8080" protocol="tcp" accept`,
		`rule family="ipv4" source address="` + hostAddr(t, "t68") + `" port port="11211" protocol="tcp" accept`,
	} {
		if n := strings.Count(rules, want); n != 2 { // permanent and running
			t.Errorf("t58: rule %q found %d times, want 2 (permanent and runtime):\n%s", want, n, rules)
		}
	}
	ufwRules := RunOn(t, "t68", "ufw show added")
	for _, want := range []string{
		"ufw allow from " + hostAddr(t, "proxy") + " to any port 8080 proto tcp",
		"ufw allow from " + hostAddr(t, "t58") + " to any port 11211 proto tcp",
	} {
		if !strings.Contains(ufwRules, want+"\n") {
			t.Errorf("t68: no %q in:\n%s", want, ufwRules)
		}
	}
	if again := ensureApplied(t).Changed(); len(again) != 0 {
		t.Errorf("second apply changed %q", again)
	}

	// Tomcat's port moves and back: each time the new port is opened and,
	// once the rollout is done, the old one closed.
	moved := variantInventory(t, "fw-port", "  port: 8080\n", "  port: 8081\n")
	for _, step := range []struct {
		inv        string
		open, gone string
	}{{moved, "8081", "8080"}, {testLab.Inventory, "8080", "8081"}} {
		res := runCmd(t, invCmd(t, step.inv, "apply", "--disruptive"))
		if res.ExitCode != 0 {
			t.Fatalf("apply with tomcat.port %s: exit %d: %s", step.open, res.ExitCode, lastLines(res.Stderr, 5))
		}
		fw := RunOn(t, "t58", "firewall-cmd --permanent --list-rich-rules; firewall-cmd --list-rich-rules")
		uf := RunOn(t, "t68", "ufw show added")
		if strings.Count(fw, `port port="`+step.open+`"`) != 2 || strings.Contains(fw, `port port="`+step.gone+`"`) {
			t.Errorf("t58 with tomcat.port %s: want %s open (permanent and runtime) and %s closed:\n%s", step.open, step.open, step.gone, fw)
		}
		if !strings.Contains(uf, "port "+step.open+" proto tcp") || strings.Contains(uf, "port "+step.gone+" proto tcp") {
			t.Errorf("t68 with tomcat.port %s: want %s open and %s closed:\n%s", step.open, step.open, step.gone, uf)
		}
	}

	// cluster.manage_firewall: false leaves the firewalls to their admin:
	// apply changes nothing in them (the openings made so far stay), and
	// the cluster works through them.
	hands := variantInventory(t, "fw-unmanaged", "  manage_firewall: true\n", "  manage_firewall: false\n")
	if res := runCmd(t, invCmd(t, hands, "apply")); res.ExitCode != 0 || len(res.Changed()) != 0 {
		t.Errorf("apply with manage_firewall: false: exit %d, changed %q", res.ExitCode, res.Changed())
	}
	if v := runCmd(t, invCmd(t, hands, "verify")); v.ExitCode != 0 {
		t.Errorf("verify with manage_firewall: false: exit %d\n%s", v.ExitCode, lastLines(v.Stdout, 10))
	}

	waitProbe(t, 2*time.Minute)
	if v := runVerify(t); v.ExitCode != 0 {
		t.Errorf("verify through the firewalls: exit %d; failures:\n%s", v.ExitCode, strings.Join(v.failed(), "\n"))
	}

	// firewalld stopped and ufw disabled before teardown: their rules
	// persist, and teardown must take apply's out all the same.
	RunOn(t, "t58", "systemctl stop firewalld")
	RunOn(t, "t68", "ufw --force disable")
	closed := 0
	for _, c := range mustTeardown(t).Changed() {
		if strings.Contains(c, " teardown: undo firewall: ") {
			closed++
		}
	}
	if closed != 4 {
		t.Errorf("teardown closed %d openings, want 4", closed)
	}
	RunOn(t, "t58", "systemctl start firewalld")
	if left := strings.TrimSpace(RunOn(t, "t58", "firewall-cmd --permanent --list-rich-rules; firewall-cmd --list-rich-rules; firewall-cmd --list-ports")); left != "" {
		t.Errorf("t58: firewalld rules left after teardown:\n%s", left)
	}
	if got := RunOn(t, "t68", "ufw show added | grep '^ufw '"); strings.TrimSpace(got) != "ufw allow 22/tcp" {
		t.Errorf("t68: ufw rules after teardown:\n%s\nwant only the admin's ssh rule", got)
	}
}

//go:build e2e

package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// pristineFP is each lab host's fingerprint as the lab came up, taken
// before any test runs (recordPristine, from TestMain's child), so no
// test depends on which ran first; nil, with pristineErr saying why, when
// the lab was not pristine then (a reused lab an earlier run applied).
var (
	pristineFP  map[string]string
	pristineErr error
)

// recordPristine takes the fingerprints of a lab no test has touched yet.
func recordPristine() {
	fp := map[string]string{}
	for _, h := range HostNames() {
		out, stderr, err := TryRunOn(h, fingerprintCmd)
		if err != nil {
			pristineErr = fmt.Errorf("%s: fingerprint: %v %s", h, err, stderr)
			return
		}
		if !strings.Contains(out, "## /var/lib/clusterctl\nabsent\n") {
			pristineErr = fmt.Errorf("%s already had /var/lib/clusterctl when the tests began: not pristine (lab down, then run again)", h)
			return
		}
		fp[h] = out
	}
	pristineFP = fp
}

func needPristine(t *testing.T) {
	t.Helper()
	if pristineFP == nil {
		t.Fatalf("no pristine fingerprint: %v", pristineErr)
	}
}

// assertPristine compares every host with its fingerprint from before the
// first apply and prints what differs.
func assertPristine(t *testing.T, when string) {
	t.Helper()
	for _, h := range HostNames() {
		if d := fingerprintDiff(pristineFP[h], fingerprintHost(t, h)); d != "" {
			t.Errorf("%s %s: differs from before the first apply (- before, + now):\n%s", h, when, d)
		}
	}
}

// ensurePristine brings the lab back to how it came up, whatever ran
// before: a teardown (itself checked: the hosts must then equal their
// pristine fingerprints) unless they already do.
func ensurePristine(t *testing.T) {
	t.Helper()
	needPristine(t)
	same := true
	for _, h := range HostNames() {
		if fingerprintDiff(pristineFP[h], fingerprintHost(t, h)) != "" {
			same = false
		}
	}
	if same {
		return
	}
	mustTeardown(t)
	assertPristine(t, "after the teardown that makes it pristine")
	if t.Failed() {
		t.FailNow()
	}
}

// listPackages lists the installed packages with their state, not their
// versions: teardown restores which packages a host has, but apt may have
// upgraded a package already there as a dependency of one apply installed
// (perl-base, for memcached's perl, when the lab's image is older than its
// mirror), and nothing downgrades it again.
const listPackages = `dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' | LC_ALL=C sort`

// fingerprintCmd prints, section by section, everything apply may change
// and teardown must put back. Config files are hashed rather than printed
// to keep a diff readable; listings include type and mode.
const fingerprintCmd = `
echo '## hostname'; hostname
echo '## /etc/hostname'; cat /etc/hostname 2>/dev/null || echo absent
echo '## timezone'; timedatectl show -p Timezone --value
echo '## /etc/hosts'; cat /etc/hosts
echo '## configs'
for f in /etc/chrony/chrony.conf /etc/chrony.conf /etc/nginx/nginx.conf /etc/memcached.conf /etc/sysconfig/memcached /etc/default/memcached; do
  if [ -e "$f" ]; then echo "$f $(sha256sum < "$f" | cut -c1-64)"; else echo "$f absent"; fi
done
echo '## config trees'; find /etc/chrony /etc/nginx /etc/memcached* /etc/profile.d -printf '%p %y %m\n' 2>/dev/null | LC_ALL=C sort
echo '## packages'; ` + listPackages + `
echo '## unit files'; systemctl list-unit-files --no-legend --no-pager | awk '{print $1, $2}' | LC_ALL=C sort
echo '## /etc/systemd/system'; find /etc/systemd/system -printf '%p %y %l\n' | LC_ALL=C sort
echo '## /usr/local'; find /usr/local -printf '%p %y %m %l\n' | LC_ALL=C sort
echo '## users'; cut -d: -f1,3,4,6,7 /etc/passwd | LC_ALL=C sort
echo '## groups'; cut -d: -f1,3 /etc/group | LC_ALL=C sort
echo '## /var/lib/clusterctl'; ls -A /var/lib/clusterctl 2>/dev/null || echo absent
`

// fingerprintHost takes one host's fingerprint.
func fingerprintHost(t testing.TB, host string) string {
	t.Helper()
	return RunOn(t, host, fingerprintCmd)
}

// fingerprintDiff lists the lines only in a ("-") or only in b ("+"), with
// the section each belongs to; "" when equal.
func fingerprintDiff(a, b string) string {
	count := func(s string) map[string]int {
		m, section := map[string]int{}, ""
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "## ") {
				section = l
			}
			m[section+" | "+l]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for l, n := range ca {
		for i := cb[l]; i < n; i++ {
			out = append(out, "- "+l)
		}
	}
	for l, n := range cb {
		for i := ca[l]; i < n; i++ {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestPristineFingerprint: the lab came up pristine and its fingerprints
// were taken before any test ran.
func TestPristineFingerprint(t *testing.T) {
	needPristine(t)
	for _, h := range HostNames() {
		t.Logf("%s: fingerprint of %d lines", h, strings.Count(pristineFP[h], "\n"))
	}
}

// purgePackagesAtEnd registers a cleanup that purges every package host
// has then and did not have now (keep "") or in its pristine fingerprint
// (keep "pristine"). A test that installs by hand removes by list: apt's
// autoremove keeps a dependency that some base package suggests (perl,
// after memcached). Register it after the cleanups that must see the
// packages still there, and before one that checks the host is pristine.
func purgePackagesAtEnd(t *testing.T, host, keep string) {
	t.Helper()
	var had map[string]bool
	var accounts string // the users and groups to keep: a purge leaves the ones a package made
	switch keep {
	case "":
		had = installed(RunOn(t, host, listPackages))
		accounts = RunOn(t, host, accountsCmd)
	case "pristine":
		needPristine(t)
		had = installed(pristineFP[host][strings.Index(pristineFP[host], "## packages\n"):])
		accounts = pristineFP[host]
	default:
		t.Fatalf("purgePackagesAtEnd: keep %q", keep)
	}
	t.Cleanup(func() {
		var extra []string
		for p := range installed(RunOn(t, host, listPackages)) {
			if !had[p] {
				extra = append(extra, p)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			RunOn(t, host, "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y -q "+strings.Join(extra, " ")+" >/dev/null")
		}
		// Debian's purge keeps the system users and groups a package's
		// scripts made (firewalld's polkit makes polkitd): they go too.
		users, groups := accountNames(accounts)
		nowUsers, nowGroups := accountNames(RunOn(t, host, accountsCmd))
		for u := range nowUsers {
			if !users[u] {
				// A daemon of the purged package may still run as the user
				// (polkitd is started by D-Bus, not by its unit).
				RunOn(t, host, "pkill -KILL -u "+shellQuote(u)+"; sleep 0.2; userdel "+shellQuote(u)+" 2>/dev/null || true") // judged below
			}
		}
		for g := range nowGroups {
			if !groups[g] {
				RunOn(t, host, "groupdel "+shellQuote(g)+" 2>/dev/null || true")
			}
		}
		leftUsers, leftGroups := accountNames(RunOn(t, host, accountsCmd))
		for u := range leftUsers {
			if !users[u] {
				t.Errorf("%s: user %s is left after the test's packages were purged", host, u)
			}
		}
		for g := range leftGroups {
			if !groups[g] {
				t.Errorf("%s: group %s is left after the test's packages were purged", host, g)
			}
		}
	})
}

// accountsCmd lists users and groups as the fingerprint does.
const accountsCmd = `echo '## users'; cut -d: -f1 /etc/passwd; echo '## groups'; cut -d: -f1 /etc/group`

// accountNames reads the user and group names of a fingerprint or of
// accountsCmd's output.
func accountNames(text string) (users, groups map[string]bool) {
	users, groups = map[string]bool{}, map[string]bool{}
	section := ""
	for _, l := range strings.Split(text, "\n") {
		switch {
		case l == "## users" || l == "## groups":
			section = l
			continue
		case strings.HasPrefix(l, "## "):
			section = ""
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSpace(l), ":")
		if name == "" {
			continue
		}
		switch section {
		case "## users":
			users[name] = true
		case "## groups":
			groups[name] = true
		}
	}
	return users, groups
}

// installed reads listPackages' lines (up to the next section, if any).
func installed(list string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(list, "\n") {
		if strings.HasPrefix(l, "## ") && l != "## packages" {
			break
		}
		if f := strings.Fields(l); len(f) == 2 && f[1] == "ii" {
			m[f[0]] = true
		}
	}
	return m
}

// leavesAsFound registers, first, a cleanup that fails the test when one
// of hosts differs at the end from its fingerprint now: a test that
// changes a host by hand undoes it (in cleanups registered after this).
func leavesAsFound(t *testing.T, hosts ...string) {
	t.Helper()
	before := map[string]string{}
	for _, h := range hosts {
		before[h] = fingerprintHost(t, h)
	}
	t.Cleanup(func() {
		for _, h := range hosts {
			if d := fingerprintDiff(before[h], fingerprintHost(t, h)); d != "" {
				t.Errorf("%s: the test left the host changed (- before, + after):\n%s", h, d)
			}
		}
	})
}

//go:build e2e

package e2e

import (
	"sort"
	"strings"
	"testing"
)

// pristineFP is each lab host's fingerprint before the first apply (this file
// sorts before u1_apply_test.go); w_teardown_test.go compares against it.
var pristineFP map[string]string

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
echo '## packages'; dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' | LC_ALL=C sort
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

// TestPristineFingerprint records the hosts before any apply. It refuses
// a host that already has a journal: that host is not pristine.
func TestPristineFingerprint(t *testing.T) {
	pristineFP = map[string]string{}
	for _, h := range HostNames() {
		fp := fingerprintHost(t, h)
		if !strings.Contains(fp, "## /var/lib/clusterctl\nabsent\n") {
			t.Fatalf("%s already has /var/lib/clusterctl: not pristine", h)
		}
		pristineFP[h] = fp
		t.Logf("%s: fingerprint of %d lines", h, strings.Count(fp, "\n"))
	}
}

package platform

import (
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// The family table, pinned: what a RHEL host calls things differs from
// Debian in every row, and an unknown family is an error, not a zero row.
func TestFamilyTable(t *testing.T) {
	deb, rhel := Families[engine.FamilyDebian], Families[engine.FamilyRHEL]
	for _, tc := range []struct{ what, deb, rhel, gotDeb, gotRHEL string }{
		{"nginx user", "www-data", "nginx", deb.NginxUser, rhel.NginxUser},
		{"memcached config", "/etc/memcached.conf", "/etc/sysconfig/memcached", deb.MemcachedConf, rhel.MemcachedConf},
		{"chrony unit", "chrony", "chronyd", deb.ChronyService, rhel.ChronyService},
		{"chrony config", "/etc/chrony/chrony.conf", "/etc/chrony.conf", deb.ChronyConf, rhel.ChronyConf},
		{"default JDK", "default-jdk-headless", "java-17-openjdk-headless", deb.JavaPackage, rhel.JavaPackage},
	} {
		if tc.gotDeb != tc.deb || tc.gotRHEL != tc.rhel {
			t.Errorf("%s: debian %q rhel %q, want %q and %q", tc.what, tc.gotDeb, tc.gotRHEL, tc.deb, tc.rhel)
		}
	}
	if _, err := Of("alpine"); err == nil {
		t.Error("an unknown family has a row")
	}
}

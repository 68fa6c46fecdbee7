package teardown

import (
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// The RHEL path cannot run here: this table is what it would run, next to
// the Debian one the lab exercises.
func TestPackageCommandsPerFamily(t *testing.T) {
	cases := []struct {
		pm           engine.PackageManager
		list, remove string
	}{
		{engine.PkgApt, `dpkg-query -W -f='${Status} ${Package}\n' 2>/dev/null | awk '$3 == "installed" {print $4}'`,
			"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y "},
		{engine.PkgDnf, `rpm -qa --qf '%{NAME}\n'`, "dnf remove -y "}, // Rocky/Alma/CentOS 8-9
		{engine.PkgYum, `rpm -qa --qf '%{NAME}\n'`, "yum remove -y "}, // CentOS 7
	}
	for _, c := range cases {
		list, remove, err := packageCmds(c.pm)
		if err != nil || list != c.list || remove != c.remove {
			t.Errorf("%s: list %q remove %q err %v\nwant list %q remove %q", c.pm, list, remove, err, c.list, c.remove)
		}
	}
	if _, _, err := packageCmds("zypper"); err == nil || !strings.Contains(err.Error(), "zypper") {
		t.Errorf("an unknown package manager must be refused by name, got %v", err)
	}
}

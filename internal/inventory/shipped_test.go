package inventory

import (
	"reflect"
	"testing"
)

// TestShippedInventory: the repository's inventory.yaml (the seed) loads and
// describes the seed's three hosts.
func TestShippedInventory(t *testing.T) {
	inv, err := Load("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type host struct {
		name, fqdn, address string
		roles               []Role
	}
	want := []host{
		{"proxy", "proxy.shone.cn", "192.168.250.8", []Role{RoleProxy}},
		{"t58", "t58.shone.cn", "192.168.250.58", []Role{RoleTomcat, RoleMemcached}},
		{"t68", "t68.shone.cn", "192.168.250.68", []Role{RoleTomcat, RoleMemcached}},
	}
	if len(inv.Hosts) != len(want) {
		t.Fatalf("got %d hosts, want %d", len(inv.Hosts), len(want))
	}
	for i, w := range want {
		h := inv.Hosts[i]
		if got := (host{h.Name, h.FQDN, h.Address, h.Roles}); !reflect.DeepEqual(got, w) {
			t.Errorf("hosts[%d] = %+v, want %+v", i, got, w)
		}
	}
	if got := names(inv.HostsWithRole(RoleTomcat)); !reflect.DeepEqual(got, []string{"t58", "t68"}) {
		t.Errorf("tomcat hosts = %v", got)
	}
	if got := names(inv.HostsWithRole(RoleProxy)); !reflect.DeepEqual(got, []string{"proxy"}) {
		t.Errorf("proxy hosts = %v", got)
	}
	if inv.Cluster.Timezone != "Asia/Shanghai" || inv.Tomcat.Version != "8.5.78" || !inv.MSM.Sticky ||
		inv.Nginx.Balance != BalanceSticky || inv.Java.Install != JavaTarball {
		t.Errorf("seed settings not as written: %+v %+v %+v", inv.Cluster, inv.Tomcat, inv.MSM)
	}
	if inv.File() != "../../inventory.yaml" {
		t.Errorf("File() = %q", inv.File())
	}
}

func names(hosts []Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

package inventory

import (
	"reflect"
	"strings"
	"testing"
)

func TestLimit(t *testing.T) {
	inv := mustParse(t, base)
	lim, err := inv.Limit([]string{"t68", " proxy "})
	if err != nil {
		t.Fatal(err)
	}
	// Inventory order, not argument order.
	if got := names(lim.Hosts); !reflect.DeepEqual(got, []string{"proxy", "t68"}) {
		t.Errorf("limited hosts = %v", got)
	}
	if got := names(lim.HostsWithRole(RoleTomcat)); !reflect.DeepEqual(got, []string{"t68"}) {
		t.Errorf("limited tomcat hosts = %v", got)
	}
	// The whole cluster stays visible for cluster-wide facts.
	if got := names(lim.AllHosts()); !reflect.DeepEqual(got, []string{"proxy", "t58", "t68"}) {
		t.Errorf("AllHosts after Limit = %v", got)
	}
	if _, ok := lim.Host("t58"); !ok {
		t.Error("Host(t58) must still find a peer outside the limit")
	}
	// The original is untouched.
	if len(inv.Hosts) != 3 {
		t.Errorf("Limit changed the original: %v", names(inv.Hosts))
	}
	// Limiting a limited inventory still knows every host.
	lim2, err := lim.Limit([]string{"t58"})
	if err != nil || !reflect.DeepEqual(names(lim2.Hosts), []string{"t58"}) {
		t.Errorf("Limit of a Limit = %v, %v", lim2, err)
	}
}

func TestLimitErrors(t *testing.T) {
	inv := mustParse(t, base)
	_, err := inv.Limit([]string{"t58", "t99", "web"})
	if err == nil || err.Error() != `--hosts: unknown host "t99", "web"; inventory.yaml has proxy, t58, t68` {
		t.Errorf("unknown names: got %v", err)
	}
	_, err = inv.Limit([]string{" "})
	if err == nil || !strings.Contains(err.Error(), "no host names given") {
		t.Errorf("empty: got %v", err)
	}
}

func TestHostHelpers(t *testing.T) {
	inv := mustParse(t, base)
	h, ok := inv.Host("t58")
	if !ok || h.Address != "10.0.0.58" {
		t.Fatalf("Host(t58) = %+v, %v", h, ok)
	}
	if !h.Has(RoleTomcat) || !h.Has(RoleMemcached) || h.Has(RoleProxy) {
		t.Errorf("Has: roles %v", h.Roles)
	}
	if _, ok := inv.Host("nope"); ok {
		t.Error("Host(nope) found something")
	}
	// A Host built by hand (not by Load) still answers.
	if (Host{}).SSHUser() != "root" || (Host{}).SSHPort() != 22 || (Host{SSH: &HostSSH{Port: 2}}).SSHPort() != 2 {
		t.Error("hand-built Host defaults wrong")
	}
}

func TestMSMModule(t *testing.T) {
	for version, want := range map[string]string{"8.5.78": "tc8", "9.0.70": "tc9", "10.1.5": "", "9.1.0": ""} {
		if got := (Tomcat{Version: version}).MSMModule(); got != want {
			t.Errorf("MSMModule(%s) = %q, want %q", version, got, want)
		}
	}
}

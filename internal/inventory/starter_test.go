package inventory

import (
	"strings"
	"testing"
)

// The starter loads as it is written, names hosts the seed's way, and
// refuses values that would not load (a host name MSM cannot take comes
// from the addresses, so a bad address is the case), naming the field.
func TestStarterLoadsAsWritten(t *testing.T) {
	b, err := Starter(StarterOptions{Name: "shop", Domain: "shop.example", Timezone: "Europe/Berlin", User: "ops",
		KeyFiles: []string{"~/.ssh/id_ed25519", "~/.ssh/id_rsa"}, Proxies: []string{"10.1.0.8"}, Tomcats: []string{"10.1.0.58", "10.1.0.68", "10.2.0.58"}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Parse("inventory.yaml", b)
	if err != nil {
		t.Fatalf("the starter does not load: %v\n%s", err, b)
	}
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name+"="+h.Address)
	}
	if got := strings.Join(names, " "); got != "proxy=10.1.0.8 t58=10.1.0.58 t68=10.1.0.68 t58b=10.2.0.58" {
		t.Errorf("hosts %s", got)
	}
	if inv.SSH.User != "ops" || inv.Cluster.Timezone != "Europe/Berlin" || len(inv.SSH.KeyFiles) != 2 {
		t.Errorf("ssh user %q, timezone %q, keys %v", inv.SSH.User, inv.Cluster.Timezone, inv.SSH.KeyFiles)
	}
	if _, err := Starter(StarterOptions{Name: "x", Domain: "x.example", Timezone: "UTC", User: "root", Proxies: []string{"10.0.0.8"}, Tomcats: []string{"not-an-ip"}}); err == nil || !strings.Contains(err.Error(), "hosts[1].address") {
		t.Errorf("a bad address: %v, want an error naming hosts[1].address", err)
	}
	if _, err := Starter(StarterOptions{Proxies: []string{"10.0.0.8"}}); err == nil || !strings.Contains(err.Error(), "--tomcat") {
		t.Errorf("no Tomcat: %v", err)
	}
}

//go:build e2e

package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/lab/netdelay"
)

// rttInventory is the lab inventory with every host's SSH going through a
// netdelay relay of rtt (half each way): hosts[].ssh.address/port point at
// the relay, the cluster's addresses stay on the bridge, and the host keys
// are known under the relays' names. The relays close with the test.
func rttInventory(t testing.TB, rtt time.Duration) string {
	t.Helper()
	keys, err := os.ReadFile(testLab.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	var edits []string
	var known strings.Builder
	for _, name := range HostNames() {
		addr := hostAddr(t, name)
		r, err := netdelay.Start(net.JoinHostPort(addr, "22"), rtt/2)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		port := strconv.Itoa(r.Addr().Port)
		edits = append(edits, "    address: "+addr+"\n", "    address: "+addr+"\n    ssh: {address: 127.0.0.1, port: "+port+"}\n")
		key := knownKey(t, string(keys), addr)
		known.WriteString("[127.0.0.1]:" + port + " " + key + "\n")
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(known.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	edits = append(edits, "known_hosts: \""+testLab.KnownHosts+"\"", "known_hosts: \""+kh+"\"")
	return variantInventory(t, "rtt-"+rtt.String(), edits...)
}

// knownKey is "type base64" of addr's line in the lab's known_hosts
// (plain lines: "addr,name,fqdn type key").
func knownKey(t testing.TB, knownHosts, addr string) string {
	t.Helper()
	for _, line := range strings.Split(knownHosts, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && strings.HasPrefix(f[0], addr+",") {
			return f[1] + " " + f[2]
		}
	}
	t.Fatalf("no host key for %s in %s", addr, testLab.KnownHosts)
	return ""
}

package verify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// labInventory is the seed's shape (proxy + t58 + t68, both Tomcat and
// memcached, the proxy serving time), loaded like a real inventory so
// defaults and per-host inheritance apply; extra adds Tomcat+memcached
// hosts t78, t88, ...
func labInventory(extra int) *inventory.Inventory {
	var hosts strings.Builder
	hosts.WriteString("  - {name: proxy, address: 10.0.0.8, roles: [proxy]}\n")
	for i := range 2 + extra {
		n := 58 + 10*i
		fmt.Fprintf(&hosts, "  - {name: t%d, address: 10.0.0.%d, roles: [tomcat, memcached]}\n", n, n)
	}
	inv, err := inventory.Parse("lab.yaml", []byte(`cluster:
  name: shone
  domain: shone.cn
  timezone: Asia/Shanghai
  ntp_servers: [proxy.shone.cn]
ssh: {user: root, agent: false, known_hosts: /dev/null}
hosts:
`+hosts.String()+`java: {install: tarball, tarball: jdk.tar.gz}
tomcat: {version: 9.0.70, tarball: tomcat.tar.gz, sha512: `+strings.Repeat("a", 128)+`}
`))
	if err != nil {
		panic(err)
	}
	return inv
}

func labTopo(t *testing.T, extra int) *topology.Topology {
	t.Helper()
	topo, err := topology.Build(labInventory(extra))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

var labFQDNs = map[string]string{"proxy": "proxy.shone.cn", "t58": "t58.shone.cn", "t68": "t68.shone.cn"}

// fastTiming keeps the drill's waits short in tests.
var fastTiming = Timing{
	Request: 5 * time.Second, Connect: 2 * time.Second, Command: 5 * time.Second, ChronySync: 50 * time.Millisecond, StickyRequests: 20,
	KeyWait: 200 * time.Millisecond, Failover: 2 * time.Second, ServiceStart: 2 * time.Second,
	Poll: 5 * time.Millisecond, RestoreDeadline: 5 * time.Second, Recover: 5 * time.Second,
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

package topology

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/inventory"
)

// cluster builds an Inventory by hand (topology must not depend on Load):
// one proxy plus n hosts t1..tn at 10.0.0.(10+i), each with the given roles.
func cluster(sticky bool, roles ...[]inventory.Role) *inventory.Inventory {
	inv := &inventory.Inventory{
		Hosts:     []inventory.Host{{Name: "proxy", Address: "10.0.0.8", Roles: []inventory.Role{inventory.RoleProxy}}},
		Tomcat:    inventory.Tomcat{Port: 8080},
		Memcached: inventory.Memcached{Port: 11211},
		MSM:       inventory.MSM{Sticky: sticky},
	}
	for i, r := range roles {
		inv.Hosts = append(inv.Hosts, inventory.Host{Name: fmt.Sprintf("t%d", i+1), Address: fmt.Sprintf("10.0.0.%d", 11+i), Roles: r})
	}
	return inv
}

var both = []inventory.Role{inventory.RoleTomcat, inventory.RoleMemcached}

func TestSeedCrossLayout(t *testing.T) {
	inv, err := inventory.Load("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo, err := Build(inv)
	if err != nil {
		t.Fatal(err)
	}
	wantNodes := []Node{
		{ID: "n1", Host: "t58", Address: "192.168.250.58", Port: 11211},
		{ID: "n2", Host: "t68", Address: "192.168.250.68", Port: 11211},
	}
	if !slices.Equal(topo.Nodes, wantNodes) {
		t.Fatalf("nodes = %+v, want %+v", topo.Nodes, wantNodes)
	}
	const nodes = "n1:192.168.250.58:11211,n2:192.168.250.68:11211"
	want := []Tomcat{
		// t58 backs up to the memcached on t68 and fails over to its own.
		{Host: "t58", Address: "192.168.250.58", Port: 8080, JvmRoute: "t58", RegularNode: wantNodes[1], FailoverNode: wantNodes[0], MemcachedNodes: nodes, FailoverNodes: "n1"},
		// t68 the other way round.
		{Host: "t68", Address: "192.168.250.68", Port: 8080, JvmRoute: "t68", RegularNode: wantNodes[0], FailoverNode: wantNodes[1], MemcachedNodes: nodes, FailoverNodes: "n2"},
	}
	if len(topo.Tomcats) != len(want) {
		t.Fatalf("tomcats = %+v", topo.Tomcats)
	}
	for i := range want {
		if topo.Tomcats[i] != want[i] {
			t.Errorf("tomcat %d =\n %+v\nwant\n %+v", i, topo.Tomcats[i], want[i])
		}
	}
	if !topo.Sticky {
		t.Error("seed is sticky")
	}
}

// The layout is of the whole cluster even when the run is limited to one host.
func TestBuildIgnoresLimit(t *testing.T) {
	inv, err := inventory.Load("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lim, err := inv.Limit([]string{"t58"})
	if err != nil {
		t.Fatal(err)
	}
	topo, err := Build(lim)
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Nodes) != 2 || len(topo.Tomcats) != 2 {
		t.Fatalf("limited build lost hosts: %+v", topo)
	}
}

// checkRing asserts the ring properties for a cluster where every tomcat
// host also runs memcached and vice versa.
func checkRing(t *testing.T, topo *Topology, n int) {
	t.Helper()
	if len(topo.Nodes) != n || len(topo.Tomcats) != n {
		t.Fatalf("want %d nodes and tomcats, got %d, %d", n, len(topo.Nodes), len(topo.Tomcats))
	}
	var all []string
	for i, node := range topo.Nodes {
		want := Node{ID: fmt.Sprintf("n%d", i+1), Host: fmt.Sprintf("t%d", i+1), Address: fmt.Sprintf("10.0.0.%d", 11+i), Port: 11211}
		if node != want {
			t.Errorf("node %d = %+v, want %+v", i, node, want)
		}
		all = append(all, want.String())
	}
	memcachedNodes := strings.Join(all, ",")
	regularOf := map[string]string{} // node id -> tomcat using it as regular
	for i, tc := range topo.Tomcats {
		own := topo.Nodes[i]
		next := topo.Nodes[(i+1)%n]
		if tc.Host != own.Host || tc.JvmRoute != own.Host {
			t.Errorf("tomcat %d = %s (route %s), want %s", i, tc.Host, tc.JvmRoute, own.Host)
		}
		if tc.RegularNode != next {
			t.Errorf("%s regular = %s, want the next host's %s", tc.Host, tc.RegularNode.ID, next.ID)
		}
		if tc.RegularNode == tc.FailoverNode || tc.RegularNode.Host == tc.Host {
			t.Errorf("%s uses its own memcached as regular node", tc.Host)
		}
		if tc.FailoverNode != own || tc.FailoverNodes != own.ID {
			t.Errorf("%s failover = %s / %q, want its own %s", tc.Host, tc.FailoverNode.ID, tc.FailoverNodes, own.ID)
		}
		if tc.MemcachedNodes != memcachedNodes {
			t.Errorf("%s memcachedNodes = %q, want %q", tc.Host, tc.MemcachedNodes, memcachedNodes)
		}
		if prev, dup := regularOf[tc.RegularNode.ID]; dup {
			t.Errorf("node %s is the regular node of both %s and %s", tc.RegularNode.ID, prev, tc.Host)
		}
		regularOf[tc.RegularNode.ID] = tc.Host
	}
	if len(regularOf) != n {
		t.Errorf("%d nodes are someone's regular node, want all %d", len(regularOf), n)
	}
}

func TestRingOfThree(t *testing.T) {
	topo, err := Build(cluster(true, both, both, both))
	if err != nil {
		t.Fatal(err)
	}
	checkRing(t, topo, 3)
	// Spelled out: t1 -> n2, t2 -> n3, t3 -> n1 (wraps round).
	for i, want := range []string{"n2", "n3", "n1"} {
		if got := topo.Tomcats[i].RegularNode.ID; got != want {
			t.Errorf("t%d regular = %s, want %s", i+1, got, want)
		}
	}
	if topo.Tomcats[0].MemcachedNodes != "n1:10.0.0.11:11211,n2:10.0.0.12:11211,n3:10.0.0.13:11211" {
		t.Errorf("memcachedNodes = %q", topo.Tomcats[0].MemcachedNodes)
	}
}

func TestRingOfTen(t *testing.T) {
	roles := make([][]inventory.Role, 10)
	for i := range roles {
		roles[i] = both
	}
	topo, err := Build(cluster(true, roles...))
	if err != nil {
		t.Fatal(err)
	}
	checkRing(t, topo, 10)
	// n10 sorts after n9 in the list (node-id order is numeric, not lexical).
	if !strings.HasSuffix(topo.Tomcats[0].MemcachedNodes, ",n9:10.0.0.19:11211,n10:10.0.0.20:11211") {
		t.Errorf("memcachedNodes = %q", topo.Tomcats[0].MemcachedNodes)
	}
	if topo.Tomcats[9].RegularNode.ID != "n1" {
		t.Errorf("t10 regular = %s, want n1", topo.Tomcats[9].RegularNode.ID)
	}
}

// Tomcat hosts without a local memcached fail over to the previous memcached
// host in the ring and use the next one as regular.
func TestTomcatWithoutLocalMemcached(t *testing.T) {
	tomcat := []inventory.Role{inventory.RoleTomcat}
	memcached := []inventory.Role{inventory.RoleMemcached}
	// hosts: proxy, t1 tomcat, t2 memcached (n1), t3 tomcat, t4 memcached (n2)
	topo, err := Build(cluster(true, tomcat, memcached, tomcat, memcached))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // host -> regular, failover
		"t1": {"n1", "n2"}, // next is t2; previous wraps round to t4
		"t3": {"n2", "n1"}, // next is t4; previous is t2
	}
	if len(topo.Tomcats) != 2 || len(topo.Nodes) != 2 {
		t.Fatalf("topology = %+v", topo)
	}
	for _, tc := range topo.Tomcats {
		w := want[tc.Host]
		if tc.RegularNode.ID != w[0] || tc.FailoverNode.ID != w[1] || tc.FailoverNodes != w[1] {
			t.Errorf("%s: regular %s failover %s (%q), want %s, %s", tc.Host, tc.RegularNode.ID, tc.FailoverNode.ID, tc.FailoverNodes, w[0], w[1])
		}
	}
}

func TestNonSticky(t *testing.T) {
	topo, err := Build(cluster(false, both, []inventory.Role{inventory.RoleTomcat}))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Nodes) != 1 || topo.Sticky {
		t.Fatalf("topology = %+v", topo)
	}
	for _, tc := range topo.Tomcats {
		if tc.FailoverNodes != "" || tc.FailoverNode != (Node{}) || tc.RegularNode != (Node{}) || tc.MemcachedNodes != "n1:10.0.0.11:11211" {
			t.Errorf("%s: %+v", tc.Host, tc)
		}
	}
}

func TestLookups(t *testing.T) {
	topo, err := Build(cluster(true, both, both))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := topo.NodeByID("n2"); !ok || n.Host != "t2" || n.Address != "10.0.0.12" {
		t.Errorf("NodeByID(n2) = %+v, %v", n, ok)
	}
	if _, ok := topo.NodeByID("n3"); ok {
		t.Error("NodeByID(n3) found a node that does not exist")
	}
	if tc, ok := topo.Tomcat("t1"); !ok || tc.RegularNode.ID != "n2" {
		t.Errorf("Tomcat(t1) = %+v, %v", tc, ok)
	}
	if tc, ok := topo.TomcatByJvmRoute("t2"); !ok || tc.Host != "t2" {
		t.Errorf("TomcatByJvmRoute(t2) = %+v, %v", tc, ok)
	}
	if _, ok := topo.Tomcat("proxy"); ok {
		t.Error("Tomcat(proxy) found a non-tomcat")
	}
}

func TestBuildErrors(t *testing.T) {
	tomcat := []inventory.Role{inventory.RoleTomcat}
	memcached := []inventory.Role{inventory.RoleMemcached}
	cases := []struct {
		name string
		inv  *inventory.Inventory
		want string
	}{
		{"one memcached node, sticky", cluster(true, both, tomcat), "sticky MSM needs at least 2 memcached nodes (failoverNodes is refused with a single node), have 1"},
		{"no memcached", cluster(false, tomcat), "no host has role memcached"},
		{"no tomcat", cluster(true, memcached, memcached), "no host has role tomcat"},
		{"dotted jvmRoute", func() *inventory.Inventory {
			inv := cluster(true, both, both)
			inv.Hosts[1].Name = "t1.lab"
			return inv
		}(), `host name "t1.lab" cannot be a jvmRoute`},
		{"IPv6 memcached", func() *inventory.Inventory {
			inv := cluster(true, both, both)
			inv.Hosts[2].Address = "fd00::2"
			return inv
		}(), "cannot hold IPv6 address fd00::2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := Build(tc.inv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %+v, %v; want error containing %q", topo, err, tc.want)
			}
		})
	}
}

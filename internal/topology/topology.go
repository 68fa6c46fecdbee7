package topology

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/inventory"
)

// ProbeContext is the context path of clusterctl's probe web application
// (assets/probe), which apply deploys on every Tomcat, nginx routes, and
// verify, the rollout and the load generator request. The inventory owns
// the value: it keeps the operator's apps off it.
const ProbeContext = inventory.ProbeContext

// Node is one memcached instance as MSM knows it.
type Node struct {
	ID      string // MSM node id: n1, n2, ... in inventory order
	Host    string // inventory host name
	Address string // IPv4 address MSM connects to
	Port    int
}

// String is the node's entry in memcachedNodes: "n1:10.0.0.58:11211".
func (n Node) String() string {
	return n.ID + ":" + n.Address + ":" + strconv.Itoa(n.Port)
}

// Tomcat is everything a Tomcat host's context.xml and server.xml, and the
// proxy's upstream list, need to know about that host's place in the cluster.
type Tomcat struct {
	Host     string // inventory host name
	Address  string
	Port     int    // tomcat.port, for the proxy's upstream
	JvmRoute string // the Engine jvmRoute: the host's short name (no '.')

	// RegularNode and FailoverNode are zero when MSM is not sticky: in
	// non-sticky mode MSM uses all nodes alike and has no failover nodes.
	RegularNode  Node
	FailoverNode Node

	MemcachedNodes string // MSM memcachedNodes: every node, node-id order, comma-separated
	FailoverNodes  string // MSM failoverNodes: FailoverNode.ID, or "" when not sticky
}

// Topology is the whole cluster's MSM layout.
type Topology struct {
	Sticky  bool
	Nodes   []Node   // node-id order (= inventory order of memcached hosts)
	Tomcats []Tomcat // inventory order of tomcat hosts
}

// NodeByID finds a node by its MSM id, e.g. the one a session id's "-n2" names.
func (t *Topology) NodeByID(id string) (Node, bool) {
	for _, n := range t.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// Tomcat finds the layout of one Tomcat host by inventory name.
func (t *Topology) Tomcat(host string) (Tomcat, bool) {
	for _, tc := range t.Tomcats {
		if tc.Host == host {
			return tc, true
		}
	}
	return Tomcat{}, false
}

// TomcatByJvmRoute finds the Tomcat whose jvmRoute a session id's ".t58" names.
func (t *Topology) TomcatByJvmRoute(route string) (Tomcat, bool) {
	for _, tc := range t.Tomcats {
		if tc.JvmRoute == route {
			return tc, true
		}
	}
	return Tomcat{}, false
}

// jvmRouteRE: MSM appends ".<jvmRoute>" to session ids and splits on the
// first '.', and its node ids are \w+; keep routes to the same alphabet.
var jvmRouteRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Build derives the layout from the whole cluster (inv.AllHosts(), so a
// --hosts limit does not change it). It re-checks what it relies on, so it is
// safe on an Inventory built by hand.
func Build(inv *inventory.Inventory) (*Topology, error) {
	hosts := inv.AllHosts()
	t := &Topology{Sticky: inv.MSM.Sticky}

	// ringPos maps a host's index in hosts to its node's index in t.Nodes.
	ringPos := map[int]int{}
	for i, h := range hosts {
		if !h.Has(inventory.RoleMemcached) {
			continue
		}
		if strings.Contains(h.Address, ":") {
			return nil, fmt.Errorf("topology: memcached host %s: MSM's memcachedNodes (id:host:port) cannot hold IPv6 address %s", h.Name, h.Address)
		}
		ringPos[i] = len(t.Nodes)
		t.Nodes = append(t.Nodes, Node{ID: "n" + strconv.Itoa(len(t.Nodes)+1), Host: h.Name, Address: h.Address, Port: inv.Memcached.Port})
	}
	switch {
	case len(t.Nodes) == 0:
		return nil, errors.New("topology: no host has role memcached")
	case len(t.Nodes) < 2 && t.Sticky:
		return nil, fmt.Errorf("topology: sticky MSM needs at least 2 memcached nodes (failoverNodes is refused with a single node), have %d", len(t.Nodes))
	}

	all := make([]string, len(t.Nodes))
	for i, n := range t.Nodes {
		all[i] = n.String()
	}
	memcachedNodes := strings.Join(all, ",")

	for i, h := range hosts {
		if !h.Has(inventory.RoleTomcat) {
			continue
		}
		if !jvmRouteRE.MatchString(h.Name) {
			return nil, fmt.Errorf("topology: host name %q cannot be a jvmRoute: it must match \\w+ (a '.' breaks MSM)", h.Name)
		}
		tc := Tomcat{Host: h.Name, Address: h.Address, Port: inv.Tomcat.Port, JvmRoute: h.Name, MemcachedNodes: memcachedNodes}
		if t.Sticky {
			tc.RegularNode = t.Nodes[nextMemcached(hosts, ringPos, i, +1)]
			if own, ok := ringPos[i]; ok {
				tc.FailoverNode = t.Nodes[own]
			} else {
				tc.FailoverNode = t.Nodes[nextMemcached(hosts, ringPos, i, -1)]
			}
			tc.FailoverNodes = tc.FailoverNode.ID
		}
		t.Tomcats = append(t.Tomcats, tc)
	}
	if len(t.Tomcats) == 0 {
		return nil, errors.New("topology: no host has role tomcat")
	}
	return t, nil
}

// nextMemcached walks the hosts from index from in direction step (+1 next,
// -1 previous), wrapping round, and returns the node index of the first other
// memcached host. The caller guarantees at least two memcached hosts, or one
// that is not hosts[from], so the walk always finds one.
func nextMemcached(hosts []inventory.Host, ringPos map[int]int, from, step int) int {
	n := len(hosts)
	for k := 1; k < n; k++ {
		j := ((from+k*step)%n + n) % n
		if node, ok := ringPos[j]; ok {
			return node
		}
	}
	panic("topology: nextMemcached found no other memcached host")
}

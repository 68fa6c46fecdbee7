// Package playbooks holds clusterctl's plays, as Go code: each play is an
// ordered list of the engine's reusable step kinds for the hosts of one
// role. Every configuration file a step writes is rendered from templates/.
package playbooks

import (
	"fmt"
	"sync"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// host is the inventory entry of an engine host, looked up by its name
// (engine hosts are dialled from the inventory, so every one has an
// entry; one that does not is a bug, and fails its step, not silently
// rendering an empty host).
func (c *Cluster) host(h *engine.Host) inventory.Host {
	ih, ok := c.Inv.Host(h.Name())
	if !ok {
		panic(fmt.Sprintf("playbooks: host %q is not in %s", h.Name(), c.Inv.File()))
	}
	return ih
}

// withRole selects the hosts that have role.
func (c *Cluster) withRole(r inventory.Role) func(*engine.Host) bool {
	return func(h *engine.Host) bool { return c.host(h).Has(r) }
}

// Cluster is what every play is built from.
type Cluster struct {
	Inv  *inventory.Inventory
	Topo *topology.Topology

	local localFacts // tarball top dirs and checksums, read once per run
	msm   msmJars    // MSM jars, resolved (maybe downloaded) once per run

	filters sync.Map // host name -> hostFilters, probed once per run
}

// NewCluster derives the topology once for all plays.
func NewCluster(inv *inventory.Inventory) (*Cluster, error) {
	topo, err := topology.Build(inv)
	if err != nil {
		return nil, err // topology names itself
	}
	return &Cluster{Inv: inv, Topo: topo}, nil
}

// Apply returns the plays of `clusterctl apply`, in order.
func (c *Cluster) Apply() []engine.Play {
	return []engine.Play{
		c.basePlay(),
		c.firewallPlay(),
		c.selinuxPlay(),
		c.javaPlay(),
		c.tomcatPlay(),
		c.memcachedPlay(),
		c.msmPlay(),
		c.probePlay(),
		c.appsPlay(),
		c.tomcatStartPlay(),
		c.nginxPlay(),
	}
}

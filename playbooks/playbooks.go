// Package playbooks holds clusterctl's plays, as Go code: each play is an
// ordered list of the engine's reusable step kinds for the hosts of one
// role. Every configuration file a step writes is rendered from templates/.
package playbooks

import (
	"sync"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// hostVar is the engine.Host.Vars key under which each host carries its
// inventory entry, so plays can build per-host steps.
const hostVar = "inventory.host"

// HostVars are the Vars an engine.Host for inventory host h must carry.
func HostVars(h inventory.Host) map[string]any { return map[string]any{hostVar: h} }

// invHost returns the inventory entry of an engine host.
func invHost(h *engine.Host) inventory.Host {
	ih, _ := h.Vars[hostVar].(inventory.Host)
	return ih
}

// withRole selects the hosts that have role.
func withRole(r inventory.Role) func(*engine.Host) bool {
	return func(h *engine.Host) bool { return invHost(h).Has(r) }
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
		c.tomcatStartPlay(),
		c.nginxPlay(),
	}
}

package playbooks

import (
	"fmt"
	"net/netip"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/templates"
)

const restartMemcached = "restart memcached"

// memcachedPlay installs the distribution's memcached and configures it
// for the host's cluster address (the file and its format differ by
// family: /etc/memcached.conf vs /etc/sysconfig/memcached).
func (c *Cluster) memcachedPlay() engine.Play {
	return engine.Play{
		Name:  "memcached",
		Hosts: c.withRole(inventory.RoleMemcached),
		Steps: []engine.Step{
			engine.Package{Names: []string{"memcached"}},
			engine.Notify(c.renderedFile("memcached config", func(p Paths) string { return p.MemcachedConf },
				Target.MemcachedConf, fileOpts{}), restartMemcached),
			engine.Service{Name: "memcached", Package: "memcached", State: engine.Started, Enabled: engine.Bool(true)},
		},
		Handlers: []engine.Step{c.restartMemcachedHandler()},
	}
}

// restartMemcachedHandler: a memcached that holds items holds the only
// second copy of sessions, so its restart rolls (internal/rollout: one
// host at a time, its keys handed over); an empty one (a new cluster)
// restarts at once.
func (c *Cluster) restartMemcachedHandler() engine.Step {
	return engine.Restart{Service: "memcached", Rolling: true, RollIf: memcachedHoldsItems(c.Inv.Memcached.Port), Label: restartMemcached}
}

// memcachedHoldsItems asks the local memcached, at whichever address it
// listens on, for its item count (bash's /dev/tcp: no client needed).
func memcachedHoldsItems(port int) string {
	return fmt.Sprintf(`a=$(ss -Hltn "sport = :%d" | awk '{print $4; exit}') && [ -n "$a" ] && a=${a%%:*} && a=${a#[} && a=${a%%]} && `+
		`timeout 3 bash -c "exec 3<>/dev/tcp/$a/%d && printf 'stats
quit
' >&3 && cat <&3" | grep -q '^STAT curr_items [1-9]'`, port, port)
}

type tmplMemcached struct {
	NodeID, FQDN, User, Listen     string
	AlsoLoopback                   bool
	Port, MemoryMB, MaxConnections int
}

// MemcachedConf is the memcached configuration of a memcached host in its
// family's format (Paths().MemcachedConf says where).
func (t Target) MemcachedConf() ([]byte, error) {
	f, err := t.family()
	if err != nil {
		return nil, err
	}
	if err := t.needRole(inventory.RoleMemcached, "memcached config"); err != nil {
		return nil, err
	}
	d := tmplMemcached{
		FQDN: t.Host.FQDN, User: f.MemcachedUser, Listen: t.Host.Address,
		Port: t.Inv.Memcached.Port, MemoryMB: t.Inv.Memcached.MemoryMB, MaxConnections: t.Inv.Memcached.MaxConnections,
	}
	for _, n := range t.Topo.Nodes {
		if n.Host == t.Host.Name {
			d.NodeID = n.ID
		}
	}
	if d.NodeID == "" {
		return nil, fmt.Errorf("render memcached config for %s: not a node in the topology", t.Host.Name)
	}
	// Loopback too, unless the cluster address is itself a loopback one.
	if a, err := netip.ParseAddr(t.Host.Address); err == nil && !a.IsLoopback() {
		d.Listen += ",127.0.0.1"
		d.AlsoLoopback = true
	}
	return templates.Render(f.MemcachedTemplate, d)
}

// ---- chrony.conf --------------------------------------------------------------

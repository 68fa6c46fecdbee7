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
// host at a time, its keys handed over). Only one that shows it is empty
// (a new cluster) restarts at once: one that cannot be read, such as a
// memcached at its connection limit that turns new clients away, may hold
// every session's backup, so it rolls too.
func (c *Cluster) restartMemcachedHandler() engine.Step {
	return engine.Restart{Service: "memcached", Rolling: true, RestartNowIf: memcachedEmpty(c.Inv.Memcached.Port), Label: restartMemcached}
}

// memcachedEmpty holds only when the local memcached, at whichever address
// it listens on, answers `stats` with no item.
func memcachedEmpty(port int) string {
	return memcachedEmptyVia(fmt.Sprintf(`ss -Hltn "sport = :%d" | awk '{print $4; exit}'`, port), port)
}

// memcachedEmptyVia is memcachedEmpty with the command that prints the
// listening address (ADDR:PORT, [V6]:PORT) given, so tests can point it at
// a server of their own. A few tries, because the handler can run a moment
// after the memcached play's first start, before memcached listens; bash's
// /dev/tcp, because minimal hosts have no memcached client.
func memcachedEmptyVia(listening string, port int) string {
	ask := fmt.Sprintf(`exec 3<>/dev/tcp/$a/%d && printf 'stats\nquit\n' >&3 && cat <&3`, port)
	return `r=; for i in 1 2 3; do ` +
		`a=$(` + listening + `) && a=${a%:*} && a=${a#[} && a=${a%]} && [ -n "$a" ] && ` +
		`r=$(timeout 2 bash -c "` + ask + `" 2>/dev/null | tr -d '\r'); ` +
		`case "$r" in *"STAT curr_items "*) break;; esac; sleep 0.5; done; ` +
		`printf '%s\n' "$r" | grep -qx 'STAT curr_items 0'`
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

package playbooks

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

const restartMemcached = "restart memcached"

// memcachedPlay installs the distribution's memcached and configures it
// for the host's cluster address (the file and its format differ by
// family: /etc/memcached.conf vs /etc/sysconfig/memcached).
func (c *Cluster) memcachedPlay() engine.Play {
	return engine.Play{
		Name:  "memcached",
		Hosts: withRole(inventory.RoleMemcached),
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

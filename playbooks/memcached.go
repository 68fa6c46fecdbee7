package playbooks

import (
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
			engine.Service{Name: "memcached", State: engine.Started, Enabled: engine.Bool(true)},
		},
		Handlers: []engine.Step{engine.Restart{Service: "memcached", Label: restartMemcached}},
	}
}

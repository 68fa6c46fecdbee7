package playbooks

import (
	"github.com/clusterctl/clusterctl/internal/engine"
)

// Chrony steps of the base play: the seed installs chrony and replaces the
// distribution's pool line with its NTP server. Only on hosts whose
// inventory asks for time sync (Target.ManagesTime); elsewhere chrony is
// left alone. Unit drop-ins (the lab runs chronyd with -x from one) are not
// touched: only the config file is ours.

const restartChrony = "restart chrony"

func (c *Cluster) managesTime(h *engine.Host) bool { return c.target(h).ManagesTime() }

func (c *Cluster) chronySteps() []engine.Step {
	const why = "no ntp_servers for this host and no host takes time from it"
	return []engine.Step{
		engine.When(c.managesTime, why, engine.Package{Names: []string{"chrony"}}),
		engine.When(c.managesTime, why, engine.Notify(
			c.renderedFile("chrony config", func(p Paths) string { return p.ChronyConf }, Target.ChronyConf, fileOpts{}),
			restartChrony)),
		engine.When(c.managesTime, why, c.withPaths("service chrony", func(_ Target, p Paths) engine.Step {
			return engine.Service{Name: p.ChronyService, Package: "chrony", State: engine.Started, Enabled: engine.Bool(true), Label: "service chrony"}
		})),
	}
}

func (c *Cluster) chronyHandlers() []engine.Step {
	return []engine.Step{c.withPaths(restartChrony, func(_ Target, p Paths) engine.Step {
		return engine.Restart{Service: p.ChronyService, Label: restartChrony}
	})}
}

package phase

import (
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/teardown"
)

// Teardown undoes on every host what apply recorded there.
func Teardown(g *Options, keepPackages bool) error {
	c := &cmdRun{g: g}
	return c.phases(
		phase{"load the inventory", c.loadInventory},
		phase{"connect to every host", c.connect},
		// Teardown puts nothing new on a host and frees the ports itself:
		// only the checks every host needs (reach, root, systemd, the
		// package lock).
		phase{"preflight", func() error {
			return gate(c.ctx(), g, c.popts, c.hosts, func(*engine.Host) (preflight.Needs, error) { return preflight.Needs{}, nil })
		}},
		phase{"lock every selected host", func() error { return c.lockHosts(c.hosts) }},
		phase{"undo what apply recorded", func() error {
			return recapError(teardown.Run(c.ctx(), c.hosts, teardown.Options{
				DryRun: g.DryRun, Diff: g.Diff, Parallel: g.Parallel, KeepPackages: keepPackages,
			}, c.sink()))
		}},
	)
}

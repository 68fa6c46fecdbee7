package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/teardown"
)

func newTeardownCommand(g *globalOptions) *cobra.Command {
	var keepPackages bool
	cmd := &cobra.Command{
		Use:   "teardown",
		Short: "Stop and remove what apply installed and restore every file it changed",
		Long: `teardown puts every host back the way apply found it, from the journal apply
keeps on each host under ` + engine.DefaultStateDir + `: it stops and disables the
services apply started, restores the files apply replaced (a file edited by hand
since is kept next to the original as <file>.clusterctl-edited-<time>), removes
what apply created, purges only the packages apply installed, restores hostname
and timezone, and finally removes the journal. A host with no journal is
reported and skipped, so a second teardown changes nothing.`,
		Example: `  clusterctl teardown --dry-run        # what would be undone, change nothing
  clusterctl teardown --keep-packages  # leave the packages apply installed
  clusterctl teardown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTeardown(cmd, g, keepPackages)
		},
	}
	cmd.Flags().BoolVar(&keepPackages, "keep-packages", false, "leave the packages apply installed (and the users they made)")
	return cmd
}

func runTeardown(cmd *cobra.Command, g *globalOptions, keepPackages bool) error {
	inv, err := loadInventory(g)
	if err != nil {
		return err
	}
	// Teardown puts nothing new on a host and frees the ports itself: only
	// the checks every host needs (reach, root, systemd, the package lock).
	c, err := connectGated(cmd, g, inv, func(*engine.Host) (preflight.Needs, error) { return preflight.Needs{}, nil })
	if err != nil {
		return err
	}
	defer c.close()
	lock, err := lockHosts(c.ctx, cmd, g, c.hosts, c.ints.halt)
	if err != nil {
		return err
	}
	recap := teardown.Run(c.ctx, c.hosts, teardown.Options{
		DryRun: g.dryRun, Diff: g.diff, Parallel: g.parallel, KeepPackages: keepPackages,
	}, newSink(cmd.OutOrStdout(), g))
	return errors.Join(recapError(recap), lock.Release())
}

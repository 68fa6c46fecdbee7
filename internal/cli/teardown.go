package cli

import (
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/phase"
)

func newTeardownCommand(g *phase.Options) *cobra.Command {
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
			return phase.Teardown(g, keepPackages)
		},
	}
	cmd.Flags().BoolVar(&keepPackages, "keep-packages", false, "leave the packages apply installed (and the users they made)")
	return cmd
}

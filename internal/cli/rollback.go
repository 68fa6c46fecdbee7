package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/playbooks"
)

func newRollbackCommand(g *globalOptions) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "rollback APP",
		Short: "Put the previous version of an app back, through the rolling restart",
		Long: `rollback wants, on every Tomcat, the version of APP (a name under apps: in the
inventory) that its last deploy replaced (kept staged on each host), and rolls it
live like a deploy: one Tomcat at a time, drained, stopped, the previous WAR put
in place, started, waited for until the app's health answers, undrained.

The inventory still names the newer WAR: the next apply deploys it again. Point
apps[].war at the version you rolled back to before the next apply.`,
		Example: `  clusterctl rollback shop
  clusterctl rollback shop --dry-run   # which hosts would go back to which version
  clusterctl rollback shop --load      # measure what users see meanwhile`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The app's name is checked before any host is contacted.
			inv, cluster, err := loadCluster(g)
			if err != nil {
				return err
			}
			if _, err := cluster.RollbackPlay(args[0]); err != nil {
				return usageError(fmt.Errorf("%s: %w", inv.File(), err))
			}
			return runPlays(cmd, g, func(c *playbooks.Cluster) []engine.Play {
				p, _ := c.RollbackPlay(args[0]) // checked above, on the same inventory
				return []engine.Play{p}
			}, f)
		},
	}
	f.register(c)
	return c
}

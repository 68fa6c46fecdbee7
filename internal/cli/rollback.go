package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/phase"
)

func newRollbackCommand(g *phase.Options) *cobra.Command {
	var f phase.RunFlags
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
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("rollback takes the name of one app under apps: in the inventory (clusterctl rollback shop); got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error { return phase.Rollback(g, args[0], f) },
	}
	registerRunFlags(c, &f)
	return c
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/phase"
)

func newRestartCommand(g *phase.Options) *cobra.Command {
	var f phase.RunFlags
	cmd := &cobra.Command{
		Use:   "restart tomcat",
		Short: "Restart Tomcat on every host, one at a time, without dropping a request",
		Long: `restart rolls a Tomcat restart across the cluster the way apply does after a
config change: at most rollout.max_unavailable Tomcats at a time, in inventory
order, each drained at every proxy (nginx sends it nothing, in-flight requests
finish), restarted, waited for until it serves with MSM on its regular memcached
node, and undrained. A Tomcat that does not become ready stops the rollout and
stays drained. Use it after a JVM patch or to pick up a new application.`,
		Example: `  clusterctl restart tomcat
  clusterctl restart tomcat --hosts t68 --dry-run
  clusterctl restart tomcat --load    # measure what users see while it rolls`,
		ValidArgs: []string{"tomcat"},
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("restart takes what to restart: tomcat (clusterctl restart tomcat); got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error { return phase.Restart(g, args[0], f) },
	}
	registerRunFlags(cmd, &f)
	return cmd
}

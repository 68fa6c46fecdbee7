package cli

import (
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/phase"
	"github.com/clusterctl/clusterctl/playbooks"
)

func newApplyCommand(g *phase.Options) *cobra.Command {
	var f phase.RunFlags
	c := &cobra.Command{
		Use:   "apply",
		Short: "Converge every host in the inventory (idempotent)",
		Long: `apply connects to every host and converges it, play by play: base (hostname,
timezone, time sync, /etc/hosts), then Java, Tomcat, memcached, MSM and nginx.
Each step first reads the host's state and changes only what differs; a second
run reports no changes. A failing host stops its own play only.

Config changes land on every host at once; the Tomcat restarts they need then
roll across the cluster (see clusterctl restart --help), so a live cluster
drops no request and loses no session.`,
		Example: `  clusterctl apply --dry-run --diff   # show what would change, change nothing
  clusterctl apply --hosts t58        # only t58 (its peers still appear in its configs)
  clusterctl apply -o json | jq .     # NDJSON events`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return phase.Apply(g, (*playbooks.Cluster).Apply, f)
		},
	}
	c.Flags().BoolVar(&f.Disruptive, "disruptive", false, "make a change that no rollout keeps unnoticed (a port, msm.storage_key_prefix on a live cluster): the rollout then restarts without waiting for the cluster to be whole between hosts")
	registerRunFlags(c, &f)
	return c
}

func registerRunFlags(c *cobra.Command, f *phase.RunFlags) {
	c.Flags().BoolVar(&f.Load, "load", false, "run 20 client sessions through the proxies during the run and print failed requests, lost sessions and stale answers")
	c.Flags().BoolVar(&f.Force, "force", false, "roll an app version even when the session check finds it cannot read the running version's sessions (it says how many it expects to break)")
}

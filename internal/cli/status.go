package cli

import (
	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/phase"
)

func newStatusCommand(g *phase.Options) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the running cluster, read-only: services, versions, drains, the lock, memcached fill, MSM placement",
		Long: `status reads every host once, changing nothing and taking no lock: per host its
roles, services and versions (JDK, Tomcat, MSM, memcached, nginx) and the restarts
an earlier run left pending; who holds the run lock; per proxy the Tomcats drained
there; per memcached its items, memory used of its limit, evictions and
connections of its limit; per Tomcat the memcached node its MSM puts a new
session on (its failover node means its regular node is not reachable). Then
what to look at. Exit 1 only when a host cannot be read.`,
		Example: `  clusterctl status
  clusterctl status -o json | jq '.problems'`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return phase.Status(g) },
	}
}

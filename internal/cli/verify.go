package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/topology"
	"github.com/clusterctl/clusterctl/internal/verify"
)

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var noDrill bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check cluster health, then drill memcached and Tomcat failover",
		Long: `verify proves the cluster works, through the hosts' SSH connections only.

Health (read-only, always first): per host, named checks with ok/failed and a
one-line reason: SSH, hostname = FQDN, timezone, chrony synchronised (or serving
time), /etc/hosts, Java, tomcat.service and its port, MSM jars, context.xml and
the Manager's start in Tomcat's log, memcached running and reachable from every
other Tomcat host on its cluster address, nginx running, nginx -t, and the
proxy's .jsp route.

Drill (disruptive, skipped with --no-drill or --dry-run): creates a session
through the proxy, checks it sticks to its Tomcat and is backed up on the right
memcached node, then stops that memcached and then that Tomcat, and proves the
session survives with its counter each time (latency = disruption to first
correct answer). Every service it stops is started again at the end, even when
a check fails or the run is interrupted (Ctrl-C).

--hosts limits the health checks; the drill always involves the whole cluster.
Exit codes: 0 every check passed, 1 a check failed, 2 bad usage or inventory.`,
		Example: `  clusterctl verify                    # health checks, then the failover drill
  clusterctl verify --no-drill         # read-only: change nothing anywhere
  clusterctl verify -o json | jq 'select(.status == "failed")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd, g, !noDrill && !g.dryRun)
		},
	}
	cmd.Flags().BoolVar(&noDrill, "no-drill", false, "only the read-only health checks: stop nothing")
	return cmd
}

// runVerify: inventory -> connections to every host -> verify -> exit code.
func runVerify(cmd *cobra.Command, g *globalOptions, drill bool) error {
	inv, err := loadInventory(g)
	if err != nil {
		return err
	}
	if _, err := topology.Build(inv); err != nil {
		return usageError(fmt.Errorf("%s: %w", inv.File(), err))
	}
	var check []string // nil: every host
	if len(g.hosts) > 0 {
		for _, h := range inv.Hosts {
			check = append(check, h.Name)
		}
	}
	// Cross-host checks and the drill need every host, whatever --hosts says.
	all := *inv
	all.Hosts = inv.AllHosts()

	ctx, stop := signalContext()
	defer stop()
	dialed := dialAll(ctx, &all, g)
	defer closeAll(dialed)
	targets := make([]verify.Target, len(dialed))
	for i, d := range dialed {
		targets[i] = verify.Target{Host: d.host, Conn: d.conn, Err: d.err}
	}

	sum, err := verify.Run(ctx, &all, targets, verify.Options{Drill: drill, Parallel: g.parallel, Check: check}, verifySink(cmd.OutOrStdout(), g))
	if err != nil {
		return usageError(err)
	}
	if n := sum.Count(verify.StatusFailed); n > 0 {
		return hostsFailed(fmt.Errorf("%d of %d checks failed", n, len(sum.Results)))
	}
	if ctx.Err() != nil {
		return hostsFailed(fmt.Errorf("interrupted: not every check ran"))
	}
	return nil
}

func verifySink(w io.Writer, g *globalOptions) verify.Sink {
	if g.output == "json" {
		return verify.NewJSON(w)
	}
	return verify.NewText(w, isTerminal(w))
}

package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/phase"
	"github.com/clusterctl/clusterctl/internal/verify"
)

func newVerifyCommand(g *phase.Options) *cobra.Command {
	var noDrill, load bool
	var drillMode string
	var rounds phase.Repeat
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
  clusterctl verify --load             # the drill under 20 client sessions: failed, lost, stale per step
  clusterctl verify --drill=hard       # SIGKILL instead of clean stops
  clusterctl verify --repeat 60 --interval 1m -o json   # a schedule, with the checks that flapped
  clusterctl verify -o json | jq 'select(.status == "failed")'`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && (args[0] == "hard" || args[0] == "soft"):
				// --drill's value is optional, so "--drill hard" leaves
				// "hard" as an argument.
				return usageError(fmt.Errorf("verify takes no arguments: write --drill=%s (with =)", args[0]))
			case len(args) > 0:
				return usageError(fmt.Errorf("verify takes no arguments, got %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rounds.N < 1 || rounds.N > phase.MaxRounds {
				return usageError(fmt.Errorf("--repeat must be between 1 and %d, got %d", phase.MaxRounds, rounds.N))
			}
			if rounds.Interval < 0 {
				return usageError(fmt.Errorf("--interval must not be negative, got %s", rounds.Interval))
			}
			if drillMode != "" && drillMode != "soft" && drillMode != "hard" {
				return usageError(fmt.Errorf("--drill must be soft or hard, not %q", drillMode))
			}
			drill := !noDrill && !g.DryRun
			if rounds.N > 1 {
				drill = drillMode != "" && !g.DryRun // a schedule runs the drill only when asked
			}
			if (load || drillMode == "hard") && !drill {
				return usageError(errors.New("--load and --drill=hard go with the drill (not with --no-drill, --dry-run, or --repeat without --drill)"))
			}
			return phase.Verify(g, verify.Options{Drill: drill, Hard: drillMode == "hard", Load: load}, rounds)
		},
	}
	cmd.Flags().BoolVar(&noDrill, "no-drill", false, "only the read-only health checks: stop nothing")
	cmd.Flags().IntVar(&rounds.N, "repeat", 1, "run the checks N times, a line per round, then the checks that flapped (health only, unless --drill)")
	cmd.Flags().DurationVar(&rounds.Interval, "interval", 10*time.Second, "pause between rounds of --repeat")
	cmd.Flags().StringVar(&drillMode, "drill", "", "soft (clean stops, the default) or hard (SIGKILL of memcached and Tomcat); with --repeat, --drill runs it in every round")
	cmd.Flags().Lookup("drill").NoOptDefVal = "soft"
	if err := cmd.RegisterFlagCompletionFunc("drill", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"soft", "hard"}, cobra.ShellCompDirectiveNoFileComp
	}); err != nil {
		panic(err)
	}
	cmd.Flags().BoolVar(&load, "load", false, "run 20 client sessions through the proxy during each drill disruption and report failed requests, lost sessions and stale answers per step")
	return cmd
}

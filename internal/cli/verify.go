package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/verify"
	"github.com/clusterctl/clusterctl/playbooks"
)

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var noDrill, load bool
	var drillMode string
	var rounds repeatOptions
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rounds.n < 1 || rounds.n > maxRounds {
				return usageError(fmt.Errorf("--repeat must be between 1 and %d, got %d", maxRounds, rounds.n))
			}
			if rounds.interval < 0 {
				return usageError(fmt.Errorf("--interval must not be negative, got %s", rounds.interval))
			}
			if drillMode != "" && drillMode != "soft" && drillMode != "hard" {
				return usageError(fmt.Errorf("--drill must be soft or hard, not %q", drillMode))
			}
			drill := !noDrill && !g.dryRun
			if rounds.n > 1 {
				drill = drillMode != "" && !g.dryRun // a schedule runs the drill only when asked
			}
			if (load || drillMode == "hard") && !drill {
				return usageError(errors.New("--load and --drill=hard go with the drill (not with --no-drill, --dry-run, or --repeat without --drill)"))
			}
			return runVerify(cmd, g, verify.Options{Drill: drill, Hard: drillMode == "hard", Load: load}, rounds)
		},
	}
	cmd.Flags().BoolVar(&noDrill, "no-drill", false, "only the read-only health checks: stop nothing")
	cmd.Flags().IntVar(&rounds.n, "repeat", 1, "run the checks N times, a line per round, then the checks that flapped (health only, unless --drill)")
	cmd.Flags().DurationVar(&rounds.interval, "interval", 10*time.Second, "pause between rounds of --repeat")
	cmd.Flags().StringVar(&drillMode, "drill", "", "soft (clean stops, the default) or hard (SIGKILL of memcached and Tomcat); with --repeat, --drill runs it in every round")
	cmd.Flags().Lookup("drill").NoOptDefVal = "soft"
	cmd.Flags().BoolVar(&load, "load", false, "run 20 client sessions through the proxy during each drill disruption and report failed requests, lost sessions and stale answers per step")
	return cmd
}

// maxRounds bounds --repeat: a schedule belongs in cron or a timer, which
// can run verify every minute for ever; one process should end.
const maxRounds = 10000

type repeatOptions struct {
	n        int
	interval time.Duration
}

// runVerify: inventory -> connections to every host -> verify -> exit code.
func runVerify(cmd *cobra.Command, g *globalOptions, opts verify.Options, rounds repeatOptions) (retErr error) {
	inv, err := loadInventory(g)
	if err != nil {
		return err
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
	// The cluster model, built once: verify reads its topology, the
	// preflight its needs.
	cluster, err := playbooks.NewCluster(&all)
	if err != nil {
		return usageError(fmt.Errorf("%s: %w", inv.File(), err))
	}

	popts, err := preflightOptions(g)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	dialed := dialAll(ctx, &all, g)
	defer closeAll(dialed)
	targets := make([]verify.Target, len(dialed))
	for i, d := range dialed {
		targets[i] = verify.Target{Host: d.host, Conn: d.conn, Err: d.err}
	}

	opts.Parallel, opts.Check, opts.Topo = g.parallel, check, cluster.Topo
	// A held package lock is a moment, not ill health (unattended-
	// upgrades); apply's own preflight still waits for it.
	popts.Skip[preflight.CheckPackageLock] = true
	hosts := engineHosts(dialed)
	opts.Preflight = func(ctx context.Context) preflight.Report {
		return preflight.Run(ctx, hosts, cluster.PreflightNeeds, popts)
	}
	if opts.Drill { // the drill stops services: one run at a time
		// The drill undoes what it stopped when ctx ends: a lost lock ends it.
		lock, err := lockHosts(ctx, cmd, g, hosts, func(why error) {
			fmt.Fprintf(g.stderr, "clusterctl: %v: stopping the drill\n", why)
			stop()
		})
		if err != nil {
			return err
		}
		defer func() { retErr = errors.Join(retErr, lock.Release()) }()
	}
	if rounds.n > 1 {
		return repeatVerify(ctx, cmd, g, &all, targets, opts, rounds)
	}
	sum, err := verify.Run(ctx, &all, targets, opts, verifySink(cmd.OutOrStdout(), g))
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

// repeatVerify runs rounds.n rounds over the same connections: one line
// per round (NDJSON: every check, then a "round" object), then the checks
// that flapped with when they changed. Exit 1 if any round failed.
func repeatVerify(ctx context.Context, cmd *cobra.Command, g *globalOptions, inv *inventory.Inventory,
	targets []verify.Target, opts verify.Options, rounds repeatOptions) error {
	w := cmd.OutOrStdout()
	var done []verify.Round
	failedRounds := 0
	for i := 1; i <= rounds.n && ctx.Err() == nil; i++ {
		if i > 1 {
			select {
			case <-ctx.Done():
			case <-time.After(rounds.interval):
			}
			if ctx.Err() != nil {
				break
			}
		}
		var sink verify.Sink = verify.Discard
		if g.output == "json" {
			sink = verify.NewJSON(w)
		}
		at := time.Now()
		sum, err := verify.Run(ctx, inv, targets, opts, sink)
		if err != nil {
			return usageError(err)
		}
		r := verify.Round{N: i, At: at, Summary: sum}
		done = append(done, r)
		if sum.Failed() {
			failedRounds++
		}
		if g.output == "json" {
			writeJSONLine(w, map[string]any{"type": "round", "round": i, "time": at, "ok": sum.Count(verify.StatusOK),
				"failed": sum.Count(verify.StatusFailed), "skipped": sum.Count(verify.StatusSkipped), "failed_checks": sum.FailedNames()})
		} else {
			fmt.Fprintln(w, r.Line())
		}
	}
	flaps := verify.Flapping(done)
	if g.output == "json" {
		writeJSONLine(w, map[string]any{"type": "flapping", "rounds": len(done), "failed_rounds": failedRounds, "checks": flaps})
	} else {
		fmt.Fprintf(w, "%d rounds, %d with failures; %d check(s) flapped\n", len(done), failedRounds, len(flaps))
		for _, f := range flaps {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	if failedRounds > 0 {
		return hostsFailed(fmt.Errorf("%d of %d rounds had failed checks", failedRounds, len(done)))
	}
	if ctx.Err() != nil {
		return hostsFailed(fmt.Errorf("interrupted after %d rounds", len(done)))
	}
	return nil
}

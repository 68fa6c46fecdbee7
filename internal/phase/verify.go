package phase

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/verify"
	"github.com/clusterctl/clusterctl/playbooks"
)

// MaxRounds bounds --repeat: a schedule belongs in cron or a timer, which
// can run verify every minute for ever; one process should end.
const MaxRounds = 10000

// Repeat is verify --repeat N --interval D.
type Repeat struct {
	N        int
	Interval time.Duration
}

// Verify: inventory -> connections to every host -> verify -> exit code.
func Verify(g *Options, opts verify.Options, rounds Repeat) (retErr error) {
	inv, err := loadInventory(g)
	if err != nil {
		return err
	}
	var check []string // nil: every host
	if len(g.Hosts) > 0 {
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
		return UsageError(fmt.Errorf("%s: %w", inv.File(), err))
	}

	popts, err := preflightOptions(g)
	if err != nil {
		return err
	}
	ctx, stop := SignalContext()
	defer stop()
	dialed := dialAll(ctx, &all, g)
	defer closeAll(dialed)
	defer reportSessions(g, dialed) // after the last check, before the close
	targets := make([]verify.Target, len(dialed))
	for i, d := range dialed {
		targets[i] = verify.Target{Host: d.host, Conn: d.conn, Err: d.err}
	}

	opts.Parallel, opts.Check, opts.Topo = g.Parallel, check, cluster.Topo
	// A held package lock is a moment, not ill health (unattended-
	// upgrades); apply's own preflight still waits for it.
	popts.Skip[preflight.CheckPackageLock] = true
	hosts := engineHosts(dialed)
	opts.Preflight = func(ctx context.Context) preflight.Report {
		return preflight.Run(ctx, hosts, cluster.PreflightNeeds, popts)
	}
	if opts.Drill { // the drill stops services: one run at a time
		// The drill undoes what it stopped when ctx ends: a lost lock ends it.
		lock, err := lockHosts(ctx, g, hosts, func(why error) {
			fmt.Fprintf(g.Stderr, "clusterctl: %v: stopping the drill\n", why)
			stop()
		})
		if err != nil {
			return err
		}
		defer func() { retErr = errors.Join(retErr, lock.Release()) }()
	}
	if rounds.N > 1 {
		return repeatVerify(ctx, g, &all, targets, opts, rounds)
	}
	sum, err := verify.Run(ctx, &all, targets, opts, verifySink(g.Stdout, g))
	if err != nil {
		return UsageError(err)
	}
	if n := sum.Count(verify.StatusFailed); n > 0 {
		return HostsFailed(fmt.Errorf("%d of %d checks failed", n, len(sum.Results)))
	}
	if ctx.Err() != nil {
		return HostsFailed(fmt.Errorf("interrupted: not every check ran"))
	}
	return nil
}

func verifySink(w io.Writer, g *Options) verify.Sink {
	if g.Output == "json" {
		return verify.NewJSON(w)
	}
	return verify.NewText(w, colorFor(w, g))
}

// repeatVerify runs the series; exit 1 if any round failed.
func repeatVerify(ctx context.Context, g *Options, inv *inventory.Inventory,
	targets []verify.Target, opts verify.Options, rounds Repeat) error {
	done, failed, err := verify.RunSeries(ctx, inv, targets, opts, verify.Series{N: rounds.N, Interval: rounds.Interval, JSON: g.Output == "json"}, g.Stdout)
	switch {
	case err != nil:
		return UsageError(err)
	case failed > 0:
		return HostsFailed(fmt.Errorf("%d of %d rounds had failed checks", failed, len(done)))
	case ctx.Err() != nil:
		return HostsFailed(fmt.Errorf("interrupted after %d rounds", len(done)))
	}
	return nil
}

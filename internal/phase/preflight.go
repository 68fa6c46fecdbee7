package phase

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/hostlock"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Preflight runs the preflight alone: every check, changing nothing.
func Preflight(g *Options) error {
	inv, cluster, err := LoadCluster(g)
	if err != nil {
		return err
	}
	c, err := connect(g, inv)
	if err != nil {
		return err
	}
	defer c.close()
	rep := preflight.Run(c.ctx, c.hosts, cluster.PreflightNeeds, c.preflight)
	printPreflight(g, rep, true)
	if err := rep.Err(); err != nil {
		return HostsFailed(err)
	}
	return nil
}

// preflightOptions reads --skip-preflight and the environment; a bad
// value is a usage error, before any host is contacted.
func preflightOptions(g *Options) (preflight.Options, error) {
	skip, err := preflight.ValidateSkip(g.SkipPreflight)
	if err != nil {
		return preflight.Options{}, UsageError(err)
	}
	o := preflight.Options{Skip: skip, Parallel: g.Parallel}
	if v := os.Getenv("CLUSTERCTL_PREFLIGHT_LOCK_WAIT"); v != "" {
		if o.LockWait, err = time.ParseDuration(v); err != nil || o.LockWait <= 0 {
			return o, UsageError(fmt.Errorf("CLUSTERCTL_PREFLIGHT_LOCK_WAIT=%q: want a duration such as 30s", v))
		}
	}
	if v := os.Getenv("CLUSTERCTL_PREFLIGHT_MIN_FREE_MB"); v != "" {
		if o.MinFreeMB, err = strconv.ParseInt(v, 10, 64); err != nil || o.MinFreeMB <= 0 {
			return o, UsageError(fmt.Errorf("CLUSTERCTL_PREFLIGHT_MIN_FREE_MB=%q: want a whole number of MiB above 0", v))
		}
	}
	return o, nil
}

// connected is a command's run on every host of its inventory: the
// preflight options (checked before any host is contacted), the
// signals' contexts (ctx is the soft one: the run stops between steps),
// and the hosts dialled.
type connected struct {
	ctx       context.Context
	ints      *interrupts
	preflight preflight.Options
	dialed    []dialed
	hosts     []*engine.Host
}

func connect(g *Options, inv *inventory.Inventory) (*connected, error) {
	popts, err := preflightOptions(g)
	if err != nil {
		return nil, err
	}
	ints := newInterrupts(g.Stderr)
	ds := dialAll(ints.soft, inv, g)
	return &connected{ctx: ints.soft, ints: ints, preflight: popts, dialed: ds, hosts: engineHosts(ds)}, nil
}

func (c *connected) close() {
	closeAll(c.dialed)
	c.ints.stop()
}

// gate runs the preflight before a command changes anything; a failure
// prints the table and ends the command (exit 1) with every host as it was.
func gate(ctx context.Context, g *Options, opts preflight.Options, hosts []*engine.Host, needs preflight.NeedsFunc) error {
	rep := preflight.Run(ctx, hosts, needs, opts)
	printPreflight(g, rep, g.Verbose)
	if err := rep.Err(); err != nil {
		return HostsFailed(err)
	}
	return nil
}

// printPreflight writes the results: in text, the failures as a table (all
// results too when all is set); in JSON, one event per result.
func printPreflight(g *Options, rep preflight.Report, all bool) {
	w := g.Stdout
	if g.Output == "json" {
		for _, r := range rep.Results {
			writeEvent(w, preflightEvent{Type: "preflight", Host: r.Host, Check: r.Check, Status: r.Status, Found: r.Found, Fix: r.Fix})
		}
		return
	}
	if all {
		for _, r := range rep.Results {
			fmt.Fprintf(w, "%-8s %-13s %-7s %s\n", r.Host, r.Check, r.Status, r.Found)
		}
	}
	rep.WriteTable(w)
	if all || len(rep.Failed()) == 0 && g.Verbose {
		fmt.Fprintf(w, "preflight: %d checks, %d failed, in %s\n", len(rep.Results), len(rep.Failed()), rep.Elapsed.Round(time.Millisecond))
	}
}

// lockHosts takes the run lock on every reachable host before a command
// changes anything (hostlock); a dry run changes nothing and takes none. A
// lock another run holds ends the command (exit 1) with nothing changed.
// A lock lost while the command runs (another run's --force-unlock, a
// removed lock) means two runs may now change one host: halt is called at
// once, so the run stops at its next safe point, and Release returns the
// loss as the command's error.
func lockHosts(ctx context.Context, g *Options, hosts []*engine.Host, halt func(error)) (*runLock, error) {
	if g.DryRun {
		return &runLock{}, nil
	}
	var conns []remote.Conn
	for _, h := range hosts {
		if h.Unreachable() == nil {
			conns = append(conns, h.Conn)
		}
	}
	lease, err := hostlock.Hold(ctx, conns, hostlock.Me(g.Command), g.ForceUnlock)
	if err != nil {
		return nil, HostsFailed(fmt.Errorf("%w; nothing was changed", err))
	}
	for _, o := range lease.Outcomes() {
		if o.TookStale != "" {
			fmt.Fprintf(g.Stderr, "notice: %s: took over the run lock of a run that is gone: %s\n", o.Host, o.TookStale)
		}
	}
	return &runLock{lease: lease, halt: halt, release: watchLease(ctx, lease, halt)}, nil
}

// runLock is the run locks of one command; the zero value (a dry run)
// holds none.
type runLock struct {
	lease   *hostlock.Lease
	halt    func(error)
	release func() error
}

// Release frees the locks and returns any the run lost as its error.
func (l *runLock) Release() error {
	if l.release == nil {
		return nil
	}
	return l.release()
}

// AtSafePoint asks every host now whether the run still holds it, and
// halts the run if not: the heartbeat alone finds a lost lock only within
// an interval, in which a rollout could drain and restart the next host.
func (l *runLock) AtSafePoint(ctx context.Context) {
	if l.lease == nil {
		return
	}
	if err := l.lease.Check(ctx); err != nil {
		l.halt(err)
	}
}

// watchLease calls halt on the first lock the lease loses; the release it
// returns frees the rest and says which were lost.
func watchLease(ctx context.Context, lease *hostlock.Lease, halt func(error)) func() error {
	var lost []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for err := range lease.Lost() {
			if len(lost) == 0 {
				halt(err)
			}
			lost = append(lost, err)
		}
	}()
	return func() error {
		lease.Release(context.WithoutCancel(ctx))
		<-done
		if len(lost) == 0 {
			return nil
		}
		return HostsFailed(fmt.Errorf("%w; the run stopped at its next safe point: check what the other run did, then run again", errors.Join(lost...)))
	}
}

package phase

import (
	"context"
	"errors"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/hostlock"
	"github.com/clusterctl/clusterctl/internal/remote"
)

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

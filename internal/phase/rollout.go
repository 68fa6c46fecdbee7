package phase

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/rollout"
	"github.com/clusterctl/clusterctl/playbooks"
)

// rolloutRun is what apply and restart share: the hosts a rollout needs
// (every proxy, even outside --hosts, since a Tomcat is drained at all of
// them) and the report at its end.
type rolloutRun struct {
	g       *Options
	inv     *inventory.Inventory
	cluster *playbooks.Cluster
	hosts   []*engine.Host
	extra   []dialed // hosts dialled for the rollout only
	// disruptive: the operator accepted a change no rollout keeps
	// unnoticed (playbooks.DisruptiveChanges).
	disruptive bool
	force      bool // roll app versions the app gate refuses
	// lock is the run's locks, asked again before each turn.
	lock *runLock
	// unreadable is askMemcached's answer, when it was asked.
	unreadable chan map[string]error
}

// withPeers adds the proxies and Tomcats that --hosts left out of the run:
// a Tomcat is drained at every proxy, and every Tomcat's memcached
// connections may need healing before another one may be drained.
func (r *rolloutRun) withPeers(ctx context.Context) {
	in := map[string]bool{}
	for _, h := range r.hosts {
		in[h.Name()] = true
	}
	var missing []inventory.Host
	for _, h := range r.inv.AllHosts() {
		if (h.Has(inventory.RoleProxy) || h.Has(inventory.RoleTomcat)) && !in[h.Name] {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return
	}
	sub := *r.inv
	sub.Hosts = missing
	r.extra = dialAll(ctx, &sub, r.g)
	r.hosts = append(r.hosts, engineHosts(r.extra)...)
}

func (r *rolloutRun) close() { closeAll(r.extra) }

// lockSet is every host the rollout touches, reads or gates on, in
// inventory order: --hosts limits what changes, not what is locked, and one
// order for every run means two runs racing for one cluster cannot each
// take a part of it and both give up.
func (r *rolloutRun) lockSet() []*engine.Host {
	byName := map[string]*engine.Host{}
	for _, h := range r.hosts {
		byName[h.Name()] = h
	}
	var out []*engine.Host
	for _, ih := range r.inv.AllHosts() {
		if h := byName[ih.Name]; h != nil {
			out = append(out, h)
		}
	}
	return out
}

func (r *rolloutRun) atSafePoint(ctx context.Context) {
	if r.lock != nil {
		r.lock.AtSafePoint(ctx)
	}
}

// roll runs the rollout and reports it; the error is the command's. ctx
// aborts it at once; stop asks it to stop at its next safe point.
func (r *rolloutRun) roll(ctx context.Context, stop <-chan struct{}, plan rollout.Plan, sink engine.EventSink) error {
	for _, d := range r.extra {
		if d.err != nil {
			return HostsFailed(fmt.Errorf("rollout: %s (a rollout needs every proxy and Tomcat): %w; the restarts stay pending", d.host.Name, d.err))
		}
	}
	ro := r.inv.Rollout
	res := rollout.Run(ctx, rollout.Config{
		Env:            r.env(sink),
		MaxUnavailable: ro.MaxUnavailable, DrainTimeout: ro.DrainTimeout.Std(), ReadyTimeout: ro.ReadyTimeout.Std(),
		NoDrain: r.g.UnsafeNoDrain, Disruptive: r.disruptive, DryRun: r.g.DryRun, Stop: stop,
		AtSafePoint: r.atSafePoint, AfterDump: r.pauseAfterDump(),
	}, plan)
	r.report(res)
	switch {
	case res.Err != nil && ctx.Err() != nil:
		return HostsFailed(fmt.Errorf("rollout aborted%s: %w", failedAt(res), res.Err))
	case res.Err != nil:
		return HostsFailed(fmt.Errorf("rollout stopped%s: %w", failedAt(res), res.Err))
	}
	return nil
}

// failedAt names the host a rollout stopped at; "" when it stopped before
// any host's turn (the app gate).
func failedAt(res rollout.Result) string {
	if res.Failed == "" {
		return ""
	}
	return " at " + res.Failed
}

// pauseAfterDump is --pause-after-dump's hold: it says where it holds on
// stderr and goes on at the next line of stdin.
func (r *rolloutRun) pauseAfterDump() func(string) {
	if !r.g.PauseAfterDump {
		return nil
	}
	in := bufio.NewReader(r.g.Stdin)
	return func(host string) {
		fmt.Fprintf(r.g.Stderr, "clusterctl: paused after the memcached dump on %s: press Enter to go on\n", host)
		in.ReadString('\n')
	}
}

func (r *rolloutRun) env(sink engine.EventSink) *rollout.SSH {
	return &rollout.SSH{Cluster: r.cluster, Hosts: r.hosts, Engine: engine.Options{DryRun: r.g.DryRun}, Sink: sink, Force: r.force}
}

// askMemcached starts refuseBlind's question to every memcached, so that
// it runs beside the state's batch instead of after it.
func (r *rolloutRun) askMemcached(ctx context.Context) {
	if r.g.DryRun {
		return
	}
	r.unreadable = make(chan map[string]error, 1)
	go func() { r.unreadable <- r.env(nil).Unreadable(ctx) }()
}

// refuseBlind ends the run, before its converge changes anything, when the
// converge would restart a memcached whose keys cannot be read
// (rollout.Unreadable says why this cannot wait for the rollout). Only
// when one does not answer are the restarts predicted, by a dry run of
// the converge on hosts.
func (r *rolloutRun) refuseBlind(ctx context.Context, hosts []*engine.Host, plays []engine.Play) error {
	if r.g.DryRun {
		return nil
	}
	var bad map[string]error
	if r.unreadable != nil {
		bad = <-r.unreadable
	} else {
		bad = r.env(nil).Unreadable(ctx)
	}
	if len(bad) == 0 {
		return nil
	}
	dry := engine.Run(ctx, hosts, plays, engine.Options{DryRun: true, Parallel: r.g.Parallel}, engine.SinkFunc(func(engine.Event) {}))
	if err := rollout.Blind(rollout.PlanOf(dry), bad); err != nil {
		return HostsFailed(err)
	}
	return nil
}

func (r *rolloutRun) report(res rollout.Result) {
	w := r.g.Stdout
	if r.g.Output == "json" {
		writeEvent(w, rolloutEvent{Type: "rollout", MemcachedRestarted: res.MemcachedRestarted, Restarted: res.Restarted, Undrained: res.Undrained,
			Resumed: res.Resumed, Phases: res.Phases, Healed: res.Healed, Waited: res.Waited, Stopped: res.Stopped, Left: res.Left,
			FailedHost: res.Failed, Error: errText(res.Err), DryRun: r.g.DryRun})
		return
	}
	if len(res.MemcachedRestarted)+len(res.Restarted)+len(res.Undrained)+len(res.Resumed) == 0 && res.Err == nil {
		return
	}
	if len(res.Resumed) > 0 {
		fmt.Fprintf(w, "rollout: finished the memcached hand-over an earlier run left on %s\n", strings.Join(res.Resumed, ", "))
	}
	if len(res.MemcachedRestarted) > 0 {
		fmt.Fprintf(w, "rollout: memcached restarted one at a time, keys handed over: %s\n", strings.Join(res.MemcachedRestarted, ", "))
	}
	verb := "rolled Tomcat on"
	if r.g.DryRun {
		verb = "would roll Tomcat (drain, restart, ready, undrain; one at a time) on"
	}
	if len(res.Restarted) > 0 {
		fmt.Fprintf(w, "rollout: %s %s\n", verb, strings.Join(res.Restarted, ", "))
	}
	if len(res.Undrained) > 0 {
		fmt.Fprintf(w, "rollout: undrained %s (left drained by an earlier run)\n", strings.Join(res.Undrained, ", "))
	}
	if res.Waited > res.Healed {
		fmt.Fprintf(w, "  %d whole-cluster check(s) found a Tomcat that could not take over at first and waited until it could\n", res.Waited-res.Healed)
	}
	if res.Healed > 0 {
		fmt.Fprintf(w, "  %d whole-cluster check(s) passed only after closing half-closed memcached connections in the Tomcats (spymemcached had not reconnected after a memcached restart)\n", res.Healed)
	}
	for _, p := range res.Phases {
		fmt.Fprintf(w, "  %-8s %-8s %s\n", p.Host, p.Name, p.Duration.Round(10*time.Millisecond))
	}
	if res.Err != nil {
		fmt.Fprintf(w, "rollout stopped%s: %v\n", failedAt(res), res.Err)
	}
	if len(res.Left) > 0 {
		fmt.Fprintf(w, "left for the next run (apply or restart resumes it):\n  %s\n", strings.Join(res.Left, "\n  "))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Package rollout restarts Tomcat and memcached across a live cluster
// without dropping a request or losing a session, and stays safe when it is
// cut at any point: by a signal, a killed process, a dropped SSH link.
//
// Its rules (this file) run against an Env: the SSH one in production
// (ssh.go, handover.go), a fake in the unit tests. They are:
//   - Reconcile first: a memcached hand-over an earlier run left half done
//     is finished, then every proxy's actual upstreams and every Tomcat's
//     readiness are read, and a Tomcat an earlier run left drained is
//     restarted while still drained, then undrained (never undrained as it
//     was: see tomcatTurn).
//   - memcached before Tomcat, one host at a time, its keys handed over
//     through a dump on the host that outlives the run.
//   - Tomcat in batches of at most max_unavailable, each drained at every
//     proxy, restarted, waited for, undrained; never a drain that leaves an
//     upstream at some proxy with no serving member, counted from the state
//     read, whatever --hosts or --disruptive say.
//   - Cluster whole before each drain and after each memcached restart
//     (skipped with Disruptive, except the last-serving rule).
//   - Stop at a safe point: once Stop is closed the current host's step is
//     finished (a drained Tomcat's turn; memcached's keys restored) or
//     undone where nothing changed yet (a dump discarded), and nothing new
//     starts. Cancelling ctx aborts at once;
//     the next run resumes from what the hosts record (drained markers,
//     pending restarts, the dump).
package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/parallel"
)

// Play is the play name rollout steps are reported under.
const Play = "rollout"

// Config is one rollout.
type Config struct {
	Env            Env
	MaxUnavailable int
	DrainTimeout   time.Duration
	ReadyTimeout   time.Duration
	// NoDrain skips drain and undrain: only for the test that proves the
	// load test fails without them (a hidden flag), never for real.
	NoDrain bool
	// Disruptive rolls a change that cannot keep the cluster whole while
	// it rolls (playbooks.DisruptiveChanges: a port, the session key
	// prefix): the whole-cluster gates are skipped, since only the
	// finished rollout makes the cluster whole again. The last-serving
	// rule still holds, and the check at the end must still pass.
	Disruptive bool
	DryRun     bool
	// Stop, closed, asks the rollout to stop at its next safe point.
	Stop <-chan struct{}
	// AtSafePoint, when set, is called at each safe point before Stop is
	// looked at: the CLI asks there whether the run still holds its
	// hosts' locks, and closes Stop if not.
	AtSafePoint func(ctx context.Context)
	// AfterDump, when set, is called after a memcached's keys are in its
	// dump and before the catch-up and restart: a test holds the rollout
	// there to write sessions in between (a hidden flag sets it).
	AfterDump func(host string)
}

// Phase is one timed part of one host's turn.
type Phase struct {
	Host     string        `json:"host"` // "cluster" for the whole-cluster check
	Name     string        `json:"phase"`
	Duration time.Duration `json:"duration_ns"`
}

// Result says what the rollout did.
type Result struct {
	MemcachedRestarted []string // memcached hosts restarted (keys handed over), in order
	Restarted          []string // Tomcats restarted, in order
	Undrained          []string // Tomcats an earlier run had left drained, now serving again
	// Resumed are memcached hand-overs an earlier run left half done and
	// this one finished.
	Resumed []string
	Phases  []Phase
	// Healed counts the whole-cluster checks that passed only after the
	// Tomcats' half-closed memcached connections were closed.
	Healed int
	// Waited counts the whole-cluster checks that found the cluster not
	// whole at first and waited (healing or not) until it was: a gate that
	// noticed. A memcached restart sometimes leaves spymemcached
	// reconnecting by itself within seconds, so Waited > 0 with Healed == 0
	// is normal.
	Waited int
	// Stopped: Stop was closed and the rollout stopped at a safe point.
	Stopped bool
	// Left is what the next run will resume, when the rollout did not
	// finish ("t58 drained at proxy", "t68: tomcat restart pending").
	Left []string
	// Failed is the host whose turn failed, with the error; the hosts
	// after it were not touched.
	Failed string
	Err    error
}

// ErrStopped is the error of a rollout stopped at a safe point.
var ErrStopped = errors.New("stopped at a safe point by a signal")

// Plan is what a rollout restarts: host -> the deferred handlers whose
// pending markers the restart clears (nil for an on-demand restart).
type Plan struct {
	Memcached map[string][]engine.Deferred
	Tomcat    map[string][]engine.Deferred
}

// PlanOf reads a converge's recap: the restarts its changes deferred.
func PlanOf(recap engine.Recap) Plan {
	p := Plan{Memcached: map[string][]engine.Deferred{}, Tomcat: map[string][]engine.Deferred{}}
	for _, h := range recap.Hosts {
		for _, d := range h.Deferred {
			switch d.Service {
			case "memcached":
				p.Memcached[h.Host] = append(p.Memcached[h.Host], d)
			case "tomcat":
				p.Tomcat[h.Host] = append(p.Tomcat[h.Host], d)
			}
		}
	}
	return p
}

type roller struct {
	cfg Config
	env Env

	mu    sync.Mutex
	res   *Result
	ups   map[string]map[string][]Member // proxy -> upstream -> members
	ready map[string]bool
	done  map[string]bool // Tomcats whose turn is over
	dumps map[string]bool // memcached hosts whose dump is on the host
}

// Run rolls plan across the cluster; see the package comment for the rules.
func Run(ctx context.Context, cfg Config, plan Plan) Result {
	var res Result
	r := &roller{cfg: cfg, env: cfg.Env, res: &res, ready: map[string]bool{}, done: map[string]bool{}, dumps: map[string]bool{}}
	if cfg.MaxUnavailable < 1 {
		r.cfg.MaxUnavailable = 1
	}
	host, err := r.run(ctx, plan)
	if err != nil {
		res.Failed, res.Err = host, err
		res.Stopped = errors.Is(err, ErrStopped)
		res.Left = r.left(plan)
	}
	return res
}

func (r *roller) run(ctx context.Context, plan Plan) (string, error) {
	env := r.env
	// The safe point's lock check (a round trip to every host) is asked
	// before each action, not here: a rollout with nothing to do asks none.
	if r.stopRequested() {
		return "", ErrStopped
	}
	for _, m := range env.MemcachedHosts() {
		left, err := env.HandoverLeft(ctx, m)
		if err != nil {
			return m, err
		}
		if left {
			if r.stopping(ctx) {
				return m, ErrStopped
			}
			r.dumps[m] = true
			if err := r.finishHandover(ctx, m); err != nil {
				return m, fmt.Errorf("finishing the memcached hand-over an earlier run left: %w", err)
			}
			r.res.Resumed = append(r.res.Resumed, m)
		}
	}
	if err := r.readState(ctx); err != nil {
		return "", err
	}
	drain := !r.cfg.NoDrain && len(env.Proxies()) > 0
	// Every Tomcat restart below may put a new app version live, the
	// resumed ones included: the app gate comes before all of them.
	if len(plan.Tomcat) > 0 || r.anyDrained() {
		if err := env.CheckApps(ctx); err != nil {
			return "", err
		}
	}

	// Tomcats an earlier run left drained come back before anything else
	// goes out: they are what the next drain needs serving.
	for _, t := range env.Tomcats() {
		if !r.drainedSomewhere(t) || r.cfg.NoDrain {
			continue
		}
		if r.stopping(ctx) {
			return t, ErrStopped
		}
		// Restarted, ready or not: see tomcatTurn on a drained Tomcat's
		// sessions.
		if err := r.tomcatTurn(ctx, t, true, false); err != nil {
			return t, err
		}
		if err := r.clear(ctx, t, plan.Tomcat[t]); err != nil {
			return t, err
		}
		r.done[t] = true
		r.res.Restarted = append(r.res.Restarted, t)
		r.res.Undrained = append(r.res.Undrained, t)
	}

	// memcached first: a Tomcat must not go out of service while the
	// memcached holding its sessions' backups restarts, and its drain gate
	// needs MSM whole again afterwards.
	for _, m := range env.MemcachedHosts() {
		deferred, ok := plan.Memcached[m]
		if !ok {
			continue
		}
		if r.stopping(ctx) {
			return m, ErrStopped
		}
		if err := r.memcachedTurn(ctx, m); err != nil {
			return m, err
		}
		if err := r.clear(ctx, m, deferred); err != nil {
			return m, err
		}
		r.res.MemcachedRestarted = append(r.res.MemcachedRestarted, m)
	}

	var order []string
	for _, t := range env.Tomcats() {
		if _, ok := plan.Tomcat[t]; ok && !r.done[t] {
			order = append(order, t)
		}
	}
	// With one Tomcat there is nothing to drain to: its restart is an
	// outage whatever we do, and draining it would only turn that into 502s.
	drain = drain && len(env.Tomcats()) > 1
	for start := 0; start < len(order); start += r.cfg.MaxUnavailable {
		group := order[start:min(start+r.cfg.MaxUnavailable, len(order))]
		if r.stopping(ctx) {
			return group[0], ErrStopped
		}
		if drain {
			if err := r.refreshReady(ctx, group); err != nil {
				return group[0], err
			}
			if err := r.keepsServingOrWait(ctx, group); err != nil {
				return group[0], err
			}
			if !r.cfg.Disruptive {
				for _, t := range group {
					if err := r.gate(ctx, t, false); err != nil {
						return t, fmt.Errorf("%w; stopped before draining %s (if this run changed a port or msm.storage_key_prefix, the cluster is whole again only once every Tomcat rolled: run apply --disruptive)", err, strings.Join(group, ", "))
					}
				}
			}
		}
		errs := make([]error, len(group))
		parallel.Each(len(group), len(group), func(i int) {
			errs[i] = r.tomcatTurn(ctx, group[i], true, drain)
		})
		for i, err := range errs {
			if err != nil {
				return group[i], err
			}
		}
		for _, t := range group {
			if err := r.clear(ctx, t, plan.Tomcat[t]); err != nil {
				return t, err
			}
			r.done[t] = true
			r.res.Restarted = append(r.res.Restarted, t)
		}
	}
	if drain && (len(order) > 0 || len(r.res.MemcachedRestarted) > 0 || len(r.res.Undrained) > 0) {
		if err := r.gate(ctx, "", false); err != nil {
			last := "cluster"
			if len(order) > 0 {
				last = order[len(order)-1]
			}
			return last, fmt.Errorf("after the rollout: %w", err)
		}
	}
	return "", nil
}

func (r *roller) stopping(ctx context.Context) bool {
	if r.cfg.AtSafePoint != nil && !r.cfg.DryRun {
		r.cfg.AtSafePoint(ctx)
	}
	return r.stopRequested()
}

// stopRequested: the first signal came.
func (r *roller) stopRequested() bool {
	if r.cfg.Stop == nil {
		return false
	}
	select {
	case <-r.cfg.Stop:
		return true
	default:
		return false
	}
}

// readState reads what every proxy serves from and whether each Tomcat
// serves: what an earlier run left is judged from this, not from the
// inventory.
func (r *roller) readState(ctx context.Context) error {
	r.ups = map[string]map[string][]Member{}
	for _, p := range r.env.Proxies() {
		u, err := r.env.Upstreams(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: reading its upstreams: %w", p, err)
		}
		r.ups[p] = u
	}
	return r.refreshReady(ctx, nil)
}

// refreshReady looks once at every Tomcat but those in skip.
func (r *roller) refreshReady(ctx context.Context, skip []string) error {
	for _, t := range r.env.Tomcats() {
		if contains(skip, t) {
			continue
		}
		err := r.env.Ready(ctx, t, 0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.setReady(t, err == nil)
	}
	return nil
}

func (r *roller) setReady(t string, ok bool) {
	r.mu.Lock()
	r.ready[t] = ok
	r.mu.Unlock()
}

func (r *roller) anyDrained() bool {
	for _, t := range r.env.Tomcats() {
		if r.drainedSomewhere(t) {
			return true
		}
	}
	return false
}

func (r *roller) drainedSomewhere(t string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ups := range r.ups {
		for _, ms := range ups {
			for _, m := range ms {
				if m.Tomcat == t && m.Down {
					return true
				}
			}
		}
	}
	return false
}

// setDown records t as down (or up) in every upstream of proxy.
func (r *roller) setDown(proxy, t string, down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ms := range r.ups[proxy] {
		for i := range ms {
			if ms[i].Tomcat == t {
				ms[i].Down = down
			}
		}
	}
}

// keepsServingOrWait is keepsServing, giving the Tomcats that are up at
// the proxies but not ready at one look until ready_timeout first: right
// after a restart a Tomcat may put its first new session on its failover
// node until spymemcached has connected (docs/msm.md), and a refusal then
// would be a false alarm. A Tomcat that is still not ready is a real one.
func (r *roller) keepsServingOrWait(ctx context.Context, group []string) error {
	err := r.keepsServing(group)
	if err == nil {
		return nil
	}
	waited := false
	for _, t := range r.env.Tomcats() {
		if contains(group, t) || r.drainedSomewhere(t) {
			continue
		}
		r.mu.Lock()
		ready := r.ready[t]
		r.mu.Unlock()
		if !ready && r.env.Ready(ctx, t, r.cfg.ReadyTimeout) == nil {
			r.setReady(t, true)
			waited = true
		}
	}
	if !waited {
		return err
	}
	return r.keepsServing(group)
}

// keepsServing is the last-serving rule: draining group must leave every
// upstream at every proxy with a member that is up there and ready.
func (r *roller) keepsServing(group []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.env.Proxies() {
		names := make([]string, 0, len(r.ups[p]))
		for n := range r.ups[p] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, up := range names {
			var why []string
			serving := false
			for _, m := range r.ups[p][up] {
				switch {
				case contains(group, m.Tomcat):
					why = append(why, m.Tomcat+" (to be drained)")
				case m.Down:
					why = append(why, m.Tomcat+" (drained at "+p+")")
				case !r.ready[m.Tomcat]:
					why = append(why, m.Tomcat+" (not ready)")
				default:
					serving = true
				}
			}
			if !serving {
				return fmt.Errorf("draining %s would leave upstream %s at %s with no serving Tomcat: %s; nothing was drained: bring the others back first (journalctl -u tomcat), then run again",
					strings.Join(group, ", "), up, p, strings.Join(why, ", "))
			}
		}
	}
	return nil
}

// tomcatTurn is one Tomcat's drain, restart, ready, undrain. Once the
// drain began the turn is finished, a Stop included: while a Tomcat is
// drained the others serve its sessions from memcached and change them
// there, and in sticky mode MSM trusts a Tomcat's own copy, so a drained
// Tomcat undrained without a restart would answer with the older session
// (seen in the fault matrix: 20 of 20 sessions served stale after a Stop
// had undrained a drained Tomcat). Only a restart drops those copies.
func (r *roller) tomcatTurn(ctx context.Context, t string, restart, drain bool) error {
	if drain {
		t0 := time.Now()
		if err := r.onProxies(ctx, func(p string) error {
			err := r.env.Drain(ctx, p, t, r.cfg.DrainTimeout)
			if err == nil {
				r.setDown(p, t, true)
			}
			return err
		}); err != nil {
			return r.afterFailure(ctx, t, err)
		}
		r.phase(t, "drain", t0)
	}
	if restart {
		t0 := time.Now()
		r.setReady(t, false)
		if err := r.env.RestartTomcat(ctx, t); err != nil {
			return fmt.Errorf("%w; %s", err, r.stuck(t))
		}
		r.phase(t, "restart", t0)
	}
	t0 := time.Now()
	if err := r.env.Ready(ctx, t, r.cfg.ReadyTimeout); err != nil {
		return fmt.Errorf("%w; %s", err, r.stuck(t))
	}
	r.setReady(t, true)
	r.phase(t, "ready", t0)
	if restart && !r.cfg.DryRun {
		if err := r.canary(ctx, t); err != nil {
			return err
		}
	}
	if r.cfg.NoDrain {
		return nil
	}
	t0 = time.Now()
	if err := r.undrain(ctx, t); err != nil {
		return err
	}
	r.phase(t, "undrain", t0)
	return nil
}

// canary runs the live session check while t, just restarted, is still
// drained: if t now serves an app version that a serving Tomcat does not,
// sessions must cross between them both ways. A refusal has put the old
// version back as the wanted one everywhere, so a second restart of t puts
// it back live before t is undrained: no user ever reached the version
// that was refused.
func (r *roller) canary(ctx context.Context, t string) error {
	err := r.env.CheckLive(ctx, t, r.servingBut(t))
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w; %s", err, r.stuck(t))
	}
	r.setReady(t, false)
	if rerr := r.env.RestartTomcat(ctx, t); rerr != nil {
		return fmt.Errorf("%w; putting the previous version back: %v; %s", err, rerr, r.stuck(t))
	}
	if rerr := r.env.Ready(ctx, t, r.cfg.ReadyTimeout); rerr != nil {
		return fmt.Errorf("%w; putting the previous version back: %v; %s", err, rerr, r.stuck(t))
	}
	r.setReady(t, true)
	if rerr := r.undrain(ctx, t); rerr != nil {
		return fmt.Errorf("%w; putting the previous version back: %v", err, rerr)
	}
	return fmt.Errorf("%w (%s runs the previous version again and serves; no user reached the new one)", err, t)
}

// servingBut is the Tomcats other than t that users reach now: ready and
// drained nowhere.
func (r *roller) servingBut(t string) []string {
	var out []string
	for _, o := range r.env.Tomcats() {
		r.mu.Lock()
		ready := r.ready[o]
		r.mu.Unlock()
		if o != t && ready && !r.drainedSomewhere(o) {
			out = append(out, o)
		}
	}
	return out
}

func (r *roller) undrain(ctx context.Context, t string) error {
	return r.onProxies(ctx, func(p string) error {
		if !r.isDownAt(p, t) {
			return nil
		}
		err := r.env.Undrain(ctx, p, t)
		if err == nil {
			r.setDown(p, t, false)
		}
		return err
	})
}

func (r *roller) isDownAt(p, t string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ms := range r.ups[p] {
		for _, m := range ms {
			if m.Tomcat == t && m.Down {
				return true
			}
		}
	}
	return false
}

// afterFailure runs when a Tomcat's drain failed (at one proxy, say): it
// may be drained elsewhere already, its sessions served by the others, so
// it goes back into service only through a restart (see tomcatTurn), and
// a failed drain leaves no healthy Tomcat out.
func (r *roller) afterFailure(ctx context.Context, t string, cause error) error {
	if r.cfg.DryRun || ctx.Err() != nil {
		return cause
	}
	r.setReady(t, false)
	if r.env.RestartTomcat(ctx, t) == nil && r.env.Ready(ctx, t, r.cfg.ReadyTimeout) == nil && r.undrain(ctx, t) == nil {
		r.setReady(t, true)
		return fmt.Errorf("%w (%s was restarted, since the others may have changed its sessions while it was drained, and is serving again)", cause, t)
	}
	return fmt.Errorf("%w; %s", cause, r.stuck(t))
}

func (r *roller) stuck(t string) string {
	return t + " stays drained at the proxies, so no user reaches it; fix it (journalctl -u tomcat on " + t +
		"), then run apply (or restart) again: it finishes the rollout and undrains " + t
}

// memcachedTurn hands over, restarts and restores one memcached. A Stop
// before the restart discards the dump (nothing was restarted); after it,
// the keys are restored first. The dump is on the host throughout, so a
// run killed in between leaves the next run a hand-over to finish.
func (r *roller) memcachedTurn(ctx context.Context, m string) error {
	t0 := time.Now()
	if err := r.env.Dump(ctx, m); err != nil {
		return fmt.Errorf("%s: handing memcached's keys over before its restart: %w (nothing was restarted)", m, err)
	}
	r.dumps[m] = true
	r.phase(m, "memcached dump", t0)
	if r.cfg.AfterDump != nil {
		r.cfg.AfterDump(m)
	}
	if r.stopping(ctx) {
		if err := r.env.Discard(ctx, m); err != nil {
			return err
		}
		delete(r.dumps, m)
		return ErrStopped
	}
	t0 = time.Now()
	if err := r.env.RestartMemcached(ctx, m); err != nil {
		return err
	}
	r.phase(m, "memcached restart", t0)
	return r.finishHandover(ctx, m)
}

// finishHandover restores a dump and waits until MSM is whole again.
func (r *roller) finishHandover(ctx context.Context, m string) error {
	t0 := time.Now()
	ri, err := r.env.Restore(ctx, m)
	if err != nil {
		return err
	}
	delete(r.dumps, m)
	r.phase(m, "memcached restore", t0)
	if ri.Evicted > 0 {
		return fmt.Errorf("%s: memcached evicted %d of the %d keys written back: memcached.memory_mb is too small for the sessions it holds; raise it, or their Tomcats' crash would lose those sessions", m, ri.Evicted, ri.Added)
	}
	if ri.NotNeeded || r.cfg.Disruptive {
		return nil // nothing restarted; or the Tomcats read new settings only once they rolled
	}
	return r.gate(ctx, "", true)
}

func (r *roller) gate(ctx context.Context, t string, afterMemcached bool) error {
	gr, err := r.env.Gate(ctx, t, afterMemcached)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Phases = append(r.res.Phases, Phase{Host: "cluster", Name: "takeover", Duration: gr.Took})
	if err == nil && gr.Heals > 0 {
		r.res.Healed++
	}
	if err == nil && gr.Checks > 1 {
		r.res.Waited++
	}
	return err
}

func (r *roller) clear(ctx context.Context, host string, ds []engine.Deferred) error {
	if r.cfg.DryRun {
		return nil
	}
	for _, d := range ds {
		if err := r.env.ClearPending(ctx, host, d); err != nil {
			return err
		}
	}
	return nil
}

func (r *roller) phase(host, name string, t0 time.Time) {
	r.mu.Lock()
	r.res.Phases = append(r.res.Phases, Phase{Host: host, Name: name, Duration: time.Since(t0)})
	r.mu.Unlock()
}

// onProxies runs f for every proxy at once; all must succeed. One nginx.conf
// is written by one drain at a time: the SSH Env serializes per proxy.
func (r *roller) onProxies(ctx context.Context, f func(proxy string) error) error {
	ps := r.env.Proxies()
	errs := make([]error, len(ps))
	parallel.Each(len(ps), len(ps), func(i int) { errs[i] = f(ps[i]) })
	return errors.Join(errs...)
}

// left says what the next run resumes, from what this one knows it left.
func (r *roller) left(plan Plan) []string {
	var out []string
	for _, m := range r.env.MemcachedHosts() {
		if r.dumps[m] {
			out = append(out, m+": memcached's keys are in a dump on the host; the next run writes them back")
		}
	}
	for _, t := range r.env.Tomcats() {
		var at []string
		for _, p := range r.env.Proxies() {
			if r.isDownAt(p, t) {
				at = append(at, p)
			}
		}
		if len(at) > 0 {
			out = append(out, t+": drained at "+strings.Join(at, ", ")+"; the next run brings it back first")
		}
	}
	for _, m := range r.env.MemcachedHosts() {
		if _, ok := plan.Memcached[m]; ok && !contains(r.res.MemcachedRestarted, m) {
			out = append(out, m+": memcached restart pending")
		}
	}
	for _, t := range r.env.Tomcats() {
		if _, ok := plan.Tomcat[t]; ok && !r.done[t] {
			out = append(out, t+": tomcat restart pending")
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

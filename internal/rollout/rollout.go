// Package rollout restarts Tomcat across a live cluster without dropping a
// request or losing a session: one batch of at most max_unavailable hosts at
// a time, in inventory order, each drained at every proxy, restarted,
// waited for until it serves with MSM on its regular memcached node, and
// undrained. A host that does not become ready stops the rollout and stays
// drained, so no user reaches it; the next run resumes from what the hosts
// record (pending restart markers, drained markers on the proxies).
package rollout

import (
	"context"
	"errors"
	"fmt"
	"github.com/clusterctl/clusterctl/internal/topology"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/msmhealth"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/playbooks"
)

// Play is the play name rollout steps are reported under.
const Play = "rollout"

// EnvNoDrain, set to 1, skips drain and undrain: for the test that proves
// the load test fails without them. Never for real clusters.
const EnvNoDrain = "CLUSTERCTL_TEST_ROLLOUT_NO_DRAIN"

// Config is one rollout.
type Config struct {
	Cluster *playbooks.Cluster
	Hosts   []*engine.Host // the run's hosts; proxies and Tomcats are picked by role
	Engine  engine.Options // DryRun, state dir
	Sink    engine.EventSink
	// Disruptive rolls a change that cannot keep the cluster whole while
	// it rolls (playbooks.DisruptiveChanges: a port, the session key
	// prefix): the whole-cluster gates before each drain and after each
	// memcached are skipped, since only the finished rollout can make the
	// cluster whole again. The check at the end still must pass.
	Disruptive bool
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
	Phases             []Phase
	// Healed counts the whole-cluster checks that passed only after the
	// Tomcats' half-closed memcached connections were closed.
	Healed int
	// Waited counts the whole-cluster checks that found the cluster not
	// whole at first and waited (healing or not) until it was: a gate that
	// noticed. A memcached restart sometimes leaves spymemcached reconnecting
	// by itself within seconds, so Waited > 0 with Healed == 0 is normal.
	Waited int
	// Failed is the host whose turn failed, with the error; the hosts
	// after it were not touched.
	Failed string
	Err    error
}

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

// Run restarts the memcacheds of the plan, one at a time and keys handed
// over, then its Tomcats, and undrains every Tomcat an earlier rollout left
// drained once it is ready.
func Run(ctx context.Context, cfg Config, plan Plan) Result {
	restart := plan.Tomcat
	var res Result
	inv := cfg.Cluster.Inv
	byName := map[string]*engine.Host{}
	var proxies []*engine.Host
	for _, h := range cfg.Hosts {
		byName[h.Name()] = h
		if ih, ok := inv.Host(h.Name()); ok && ih.Has(inventory.RoleProxy) {
			proxies = append(proxies, h)
		}
	}
	for _, h := range proxies {
		if !h.Facts.Gathered() {
			if err := h.GatherFacts(ctx); err != nil {
				return failed(res, h.Name(), err)
			}
		}
	}
	// What the proxies say is drained, so a host left drained is undrained
	// (once ready) even when it needs no restart.
	leftDrained := map[string]bool{}
	for _, p := range proxies {
		d, err := playbooks.DrainedTomcats(ctx, p)
		if err != nil {
			return failed(res, p.Name(), err)
		}
		for n := range d {
			leftDrained[n] = true
		}
	}
	var tomcats []*engine.Host
	var order []string
	for _, tc := range cfg.Cluster.Topo.Tomcats {
		h := byName[tc.Host]
		if h == nil {
			continue
		}
		tomcats = append(tomcats, h)
		if _, ok := restart[tc.Host]; ok || leftDrained[tc.Host] {
			order = append(order, tc.Host)
		}
	}
	noDrain := os.Getenv(EnvNoDrain) == "1"
	r := &roller{cfg: cfg, proxies: proxies, tomcats: tomcats, res: &res, noDrain: noDrain}
	// memcached first: a Tomcat must not go out of service while the
	// memcached holding its sessions' backups is down, and its drain gate
	// needs MSM whole again after the memcached restarts.
	for _, n := range cfg.Cluster.Topo.Nodes {
		deferred, ok := plan.Memcached[n.Host]
		if h := byName[n.Host]; ok && h != nil {
			if err := r.memcachedTurn(ctx, h); err != nil {
				return failed(res, n.Host, err)
			}
			if !cfg.Engine.DryRun {
				for _, d := range deferred {
					if err := engine.ClearPending(ctx, h, cfg.Engine, d); err != nil {
						return failed(res, n.Host, err)
					}
				}
			}
			res.MemcachedRestarted = append(res.MemcachedRestarted, n.Host)
		}
	}
	if len(order) == 0 {
		return res
	}
	// Never take the last serving Tomcat: with one Tomcat there is nothing
	// to drain to, and the restart is an outage whatever we do.
	batch := min(inv.Rollout.MaxUnavailable, len(cfg.Cluster.Topo.Tomcats)-1)
	drain := batch >= 1 && len(proxies) > 0 && !noDrain
	batch = max(batch, 1)
	for start := 0; start < len(order); start += batch {
		group := order[start:min(start+batch, len(order))]
		// A Tomcat may go out of service only while the others can take
		// over its sessions.
		if drain && !cfg.Disruptive {
			for _, name := range group {
				if err := r.ensureHealthy(ctx, msmhealth.CanTakeOver(cfg.Cluster.Topo, topology.ProbeContext+"/", name)); err != nil {
					return failed(res, name, fmt.Errorf("%w; stopped before draining %s (if this run changed a port or msm.storage_key_prefix, the cluster is whole again only once every Tomcat rolled: run apply --disruptive)", err, strings.Join(group, ", ")))
				}
			}
		}
		errs := make([]error, len(group))
		parallel.Each(len(group), len(group), func(i int) {
			_, needsRestart := restart[group[i]]
			errs[i] = r.turn(ctx, byName[group[i]], restart[group[i]], needsRestart, drain)
		})
		for i, err := range errs {
			if err != nil {
				return failed(res, group[i], err)
			}
		}
	}
	if drain {
		if err := r.ensureHealthy(ctx, msmhealth.Whole(cfg.Cluster.Topo, topology.ProbeContext+"/")); err != nil {
			return failed(res, order[len(order)-1], fmt.Errorf("after the rollout: %w", err))
		}
	}
	return res
}

// ensureHealthy runs check (a msmhealth step) on a proxy, healing the
// Tomcats' memcached connections while it fails, bounded by
// rollout.ready_timeout.
func (r *roller) ensureHealthy(ctx context.Context, check engine.Step) error {
	if r.cfg.Engine.DryRun || len(r.proxies) == 0 {
		return nil
	}
	proxy := r.proxies[0]
	rec, err := msmhealth.Ensure(ctx, proxy, r.tomcats, check, r.cfg.Cluster.Inv.Memcached.Port,
		r.cfg.Cluster.Inv.Rollout.ReadyTimeout.Std(), r.step)
	ev := engine.Event{Type: engine.EventStep, Time: time.Now(), Host: proxy.Name(), Play: Play, Step: check.Title(),
		Status: engine.StatusOK, Duration: rec.Took, Err: err}
	if err != nil {
		ev.Status = engine.StatusFailed
	}
	r.cfg.Sink.Emit(ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Phases = append(r.res.Phases, Phase{Host: "cluster", Name: "takeover", Duration: rec.Took})
	if rec.Heals > 0 && err == nil {
		r.res.Healed++
	}
	if rec.Checks > 1 && err == nil {
		r.res.Waited++
	}
	return err
}

func failed(res Result, host string, err error) Result {
	res.Failed, res.Err = host, err
	return res
}

type roller struct {
	cfg     Config
	proxies []*engine.Host
	tomcats []*engine.Host // every Tomcat host dialled, for Heal
	noDrain bool

	mu  sync.Mutex
	res *Result
}

func (r *roller) phase(host, name string, t0 time.Time) {
	r.mu.Lock()
	r.res.Phases = append(r.res.Phases, Phase{Host: host, Name: name, Duration: time.Since(t0)})
	r.mu.Unlock()
}

// turn is one Tomcat's drain, restart, ready, undrain. Interrupted, it
// still undrains the host if the host is ready, so Ctrl-C never leaves a
// healthy Tomcat out of service.
func (r *roller) turn(ctx context.Context, h *engine.Host, deferred []engine.Deferred, needsRestart, drain bool) error {
	err := r.work(ctx, h, needsRestart, drain)
	name := h.Name()
	if err != nil && ctx.Err() != nil && drain && !r.cfg.Engine.DryRun {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if r.step(bg, h, r.cfg.Cluster.TomcatReadyStep(name, 10*time.Second)) == nil &&
			r.onProxies(bg, r.cfg.Cluster.DrainStep(name, false, 0)) == nil {
			return fmt.Errorf("%w (interrupted: %s was ready and is serving again)", err, name)
		}
		return err
	}
	if err != nil {
		return err
	}
	if !r.cfg.Engine.DryRun {
		for _, d := range deferred {
			if err := engine.ClearPending(ctx, h, r.cfg.Engine, d); err != nil {
				return err
			}
		}
	}
	r.mu.Lock()
	if needsRestart {
		r.res.Restarted = append(r.res.Restarted, name)
	} else {
		r.res.Undrained = append(r.res.Undrained, name)
	}
	r.mu.Unlock()
	return nil
}

func (r *roller) work(ctx context.Context, h *engine.Host, needsRestart, drain bool) error {
	name := h.Name()
	inv := r.cfg.Cluster.Inv
	if drain {
		t0 := time.Now()
		if err := r.onProxies(ctx, r.cfg.Cluster.DrainStep(name, true, inv.Rollout.DrainTimeout.Std())); err != nil {
			return err
		}
		r.phase(name, "drain", t0)
	}
	if needsRestart {
		t0 := time.Now()
		if err := r.step(ctx, h, playbooks.RestartTomcatStep()); err != nil {
			return fmt.Errorf("%w; %s", err, r.stuck(name, drain))
		}
		r.phase(name, "restart", t0)
	}
	t0 := time.Now()
	if err := r.step(ctx, h, r.cfg.Cluster.TomcatReadyStep(name, inv.Rollout.ReadyTimeout.Std())); err != nil {
		return fmt.Errorf("%w; %s", err, r.stuck(name, drain))
	}
	r.phase(name, "ready", t0)
	if r.noDrain {
		return nil
	}
	// Undrain also when this run could not drain (a single Tomcat): a host
	// an earlier run left drained must come back.
	t0 = time.Now()
	if err := r.onProxies(ctx, r.cfg.Cluster.DrainStep(name, false, 0)); err != nil {
		return err
	}
	r.phase(name, "undrain", t0)
	return nil
}

func (r *roller) stuck(name string, drained bool) string {
	if !drained {
		return "fix it, then run apply (or restart) again"
	}
	return name + " stays drained at the proxies, so no user reaches it; fix it (journalctl -u tomcat on " + name +
		"), then run apply (or restart) again: it finishes the rollout and undrains " + name
}

// step runs one rollout step on h; a dry run reports it and goes on.
func (r *roller) step(ctx context.Context, h *engine.Host, s engine.Step) error {
	if r.cfg.Engine.DryRun {
		r.cfg.Sink.Emit(engine.Event{Type: engine.EventStep, Time: time.Now(), Host: h.Name(), Play: Play, Step: s.Title(),
			Status: engine.StatusChanged, DryRun: true, Summary: "would " + s.Title()})
		return nil
	}
	st, err := engine.RunStep(ctx, h, Play, s, r.cfg.Engine, r.cfg.Sink)
	if err == nil && st == engine.StatusFailed {
		err = errors.New(s.Title() + " failed")
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.Name(), s.Title(), err)
	}
	return nil
}

// onProxies runs s on every proxy at once; all must succeed.
func (r *roller) onProxies(ctx context.Context, s engine.Step) error {
	errs := make([]error, len(r.proxies))
	parallel.Each(len(r.proxies), len(r.proxies), func(i int) { errs[i] = r.step(ctx, r.proxies[i], s) })
	return errors.Join(errs...)
}

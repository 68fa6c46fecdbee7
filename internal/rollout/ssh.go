package rollout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/msmhealth"
	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/topology"
	"github.com/clusterctl/clusterctl/playbooks"
)

// SSH is the Env of a real cluster: the hosts' SSH connections, the
// playbooks' drain and restart steps, msmhealth's gates. Every action is
// an engine step, reported through the sink like the converge's.
type SSH struct {
	Cluster *playbooks.Cluster
	Hosts   []*engine.Host // the run's hosts; proxies and Tomcats are picked by role
	Engine  engine.Options // DryRun, state dir
	Sink    engine.EventSink
	// Force rolls app versions the app gate finds unable to read the
	// running version's sessions (apply --force), saying what it expects.
	Force bool

	once    sync.Once
	byName  map[string]*engine.Host
	proxies []string
	tomcats []string
	nodes   []string
	locks   map[string]*sync.Mutex // per proxy: one nginx.conf writer at a time
}

var _ Env = (*SSH)(nil)

func (e *SSH) init() {
	e.once.Do(func() {
		inv := e.Cluster.Inv
		e.byName = map[string]*engine.Host{}
		e.locks = map[string]*sync.Mutex{}
		for _, h := range e.Hosts {
			e.byName[h.Name()] = h
			if ih, ok := inv.Host(h.Name()); ok && ih.Has(inventory.RoleProxy) {
				e.proxies = append(e.proxies, h.Name())
				e.locks[h.Name()] = &sync.Mutex{}
			}
		}
		for _, t := range e.Cluster.Topo.Tomcats {
			if e.byName[t.Host] != nil {
				e.tomcats = append(e.tomcats, t.Host)
			}
		}
		for _, n := range e.Cluster.Topo.Nodes {
			if e.byName[n.Host] != nil {
				e.nodes = append(e.nodes, n.Host)
			}
		}
	})
}

func (e *SSH) Proxies() []string        { e.init(); return e.proxies }
func (e *SSH) Tomcats() []string        { e.init(); return e.tomcats }
func (e *SSH) MemcachedHosts() []string { e.init(); return e.nodes }

func (e *SSH) host(name string) *engine.Host { e.init(); return e.byName[name] }

func (e *SSH) Upstreams(ctx context.Context, proxy string) (map[string][]Member, error) {
	h := e.host(proxy)
	// A proxy outside --hosts was dialled for the rollout only: its facts
	// (the family, for the paths table) are not read yet.
	if !h.Facts.Gathered() {
		if err := h.GatherFacts(ctx); err != nil {
			return nil, err
		}
	}
	drained, err := playbooks.DrainedTomcats(ctx, h)
	if err != nil {
		return nil, err
	}
	ups, err := e.Cluster.ProxyUpstreams(ctx, h)
	if err != nil {
		return nil, err
	}
	byAddr := map[string]string{}
	for _, t := range e.Cluster.Topo.Tomcats {
		byAddr[net.JoinHostPort(t.Address, strconv.Itoa(t.Port))] = t.Host
	}
	out := map[string][]Member{}
	for name, servers := range ups {
		for _, s := range servers {
			t, ok := byAddr[net.JoinHostPort(s.Address, strconv.Itoa(s.Port))]
			if !ok {
				continue // a server the inventory no longer has: not ours to count
			}
			out[name] = append(out[name], Member{Tomcat: t, Down: s.Down || drained[t]})
		}
	}
	// A proxy whose nginx.conf is not written yet still has its markers.
	if len(out) == 0 && len(drained) > 0 {
		for _, t := range e.Cluster.Topo.Tomcats {
			out["tomcat-servers"] = append(out["tomcat-servers"], Member{Tomcat: t.Host, Down: drained[t.Host]})
		}
	}
	return out, nil
}

func (e *SSH) Ready(ctx context.Context, tomcat string, wait time.Duration) error {
	h := e.host(tomcat)
	if wait > 0 {
		return e.step(ctx, h, e.Cluster.TomcatReadyStep(tomcat, wait))
	}
	// One look, no event: the rollout reads the state it starts from, and
	// asks whether users get answers from this Tomcat: at its port, or at
	// the one it last finished a rollout with (a disruptive port change
	// before this Tomcat's restart).
	ports := []int{e.Cluster.Inv.Tomcat.Port}
	if live, ok, err := playbooks.ReadLiveSettings(ctx, h); err == nil && ok {
		if p, err := strconv.Atoi(live["tomcat.port"]); err == nil && p != ports[0] {
			ports = append(ports, p)
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := h.Conn.Run(probe.ReadOnly(lctx), servesCmd(e.Cluster, tomcat, ports...))
	if err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("%s: not ready", tomcat)
	}
	return nil
}

// servesCmd is Ready's one look: whether the Tomcat answers users at any
// of ports.
func servesCmd(c *playbooks.Cluster, tomcat string, ports ...int) string {
	return "{ " + c.TomcatServesCond(tomcat, ports...) + "; } >/dev/null 2>&1"
}

func (e *SSH) Drain(ctx context.Context, proxy, tomcat string, wait time.Duration) error {
	return e.onProxy(ctx, proxy, e.Cluster.DrainStep(tomcat, true, wait))
}

func (e *SSH) Undrain(ctx context.Context, proxy, tomcat string) error {
	return e.onProxy(ctx, proxy, e.Cluster.DrainStep(tomcat, false, 0))
}

// onProxy serializes the drains at one proxy: each renders nginx.conf from
// the markers it reads, so two at once would each drop the other's.
func (e *SSH) onProxy(ctx context.Context, proxy string, s engine.Step) error {
	e.init()
	mu := e.locks[proxy]
	mu.Lock()
	defer mu.Unlock()
	return e.step(ctx, e.host(proxy), s)
}

func (e *SSH) RestartTomcat(ctx context.Context, tomcat string) error {
	return e.step(ctx, e.host(tomcat), e.Cluster.RestartTomcatStep())
}

func (e *SSH) ClearPending(ctx context.Context, host string, d engine.Deferred) error {
	return engine.ClearPending(ctx, e.host(host), e.Engine, d)
}

// Gate checks from the first proxy, healing the Tomcats' memcached
// connections while it fails. After a memcached restart it heals first
// either way: a half-closed connection to a node no probe session lives on
// would otherwise go unseen. For the whole cluster it then also requires
// every Tomcat's JVM to be connected to every node.
func (e *SSH) Gate(ctx context.Context, tomcat string, afterMemcached bool) (GateResult, error) {
	if e.Engine.DryRun || len(e.Proxies()) == 0 {
		return GateResult{}, nil
	}
	inv := e.Cluster.Inv
	proxy := e.host(e.proxies[0])
	var tomcats []*engine.Host
	for _, t := range e.tomcats {
		tomcats = append(tomcats, e.host(t))
	}
	t0 := time.Now()
	var gr GateResult
	if afterMemcached {
		for _, h := range tomcats {
			if err := e.step(ctx, h, msmhealth.Heal(inv.Memcached.Port)); err != nil {
				return gr, err
			}
		}
	}
	check := msmhealth.Whole(e.Cluster.Topo, topology.ProbeContext+"/")
	if tomcat != "" {
		check = msmhealth.CanTakeOver(e.Cluster.Topo, topology.ProbeContext+"/", tomcat)
	}
	timeout := inv.Rollout.ReadyTimeout.Std()
	var err error
	for {
		rec, werr := msmhealth.Ensure(ctx, proxy, tomcats, check, inv.Memcached.Port, timeout-time.Since(t0), e.step)
		gr.Checks, gr.Heals, err = gr.Checks+rec.Checks, gr.Heals+rec.Heals, werr
		// After a memcached restart spymemcached may reconnect only after
		// its back-off (seen in the lab: seconds after a heal, when the run
		// that restarted memcached was killed and the next one resumed),
		// so the gate keeps healing and waiting up to ready_timeout rather
		// than giving up after two idle rounds.
		var nw *msmhealth.NotWholeError
		if err == nil || !afterMemcached || !errors.As(err, &nw) || time.Since(t0) > timeout || ctx.Err() != nil {
			break
		}
	}
	if err == nil && tomcat == "" {
		for _, h := range tomcats {
			rec, cerr := msmhealth.Ensure(ctx, h, []*engine.Host{h}, msmhealth.Connected(e.Cluster.Topo), inv.Memcached.Port,
				timeout-time.Since(t0), e.step)
			gr.Checks += rec.Checks - 1
			gr.Heals += rec.Heals
			if cerr != nil {
				err = cerr
				break
			}
		}
	}
	gr.Took = time.Since(t0)
	ev := engine.Event{Type: engine.EventStep, Time: time.Now(), Host: proxy.Name(), Play: Play, Step: check.Title(),
		Status: engine.StatusOK, Duration: gr.Took, Err: err}
	if err != nil {
		ev.Status = engine.StatusFailed
	}
	e.Sink.Emit(ev)
	return gr, err
}

// step runs one rollout step on h; a dry run reports it and goes on.
func (e *SSH) step(ctx context.Context, h *engine.Host, s engine.Step) error {
	if e.Engine.DryRun {
		e.Sink.Emit(engine.Event{Type: engine.EventStep, Time: time.Now(), Host: h.Name(), Play: Play, Step: s.Title(),
			Status: engine.StatusChanged, DryRun: true, Summary: "would " + s.Title()})
		return nil
	}
	st, err := engine.RunStep(ctx, h, Play, s, e.Engine, e.Sink)
	if err == nil && st == engine.StatusFailed {
		err = errors.New(s.Title() + " failed")
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.Name(), s.Title(), err)
	}
	return nil
}

// emit reports a rollout action that is not an engine step.
func (e *SSH) emit(host, step, summary string, t0 time.Time, err error) {
	ev := engine.Event{Type: engine.EventStep, Time: time.Now(), Host: host, Play: Play, Step: step,
		Status: engine.StatusChanged, Duration: time.Since(t0), Summary: summary, Err: err, DryRun: e.Engine.DryRun}
	if err != nil {
		ev.Status = engine.StatusFailed
	}
	e.Sink.Emit(ev)
}

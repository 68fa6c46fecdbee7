package verify

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// Target is one inventory host and its connection, or why there is none.
type Target struct {
	Host inventory.Host
	Conn remote.Conn // nil when Err is set
	Err  error
}

// Timing bounds every wait; tests shorten it.
type Timing struct {
	Request         time.Duration // one HTTP request through the proxy
	Connect         time.Duration // a host opening a TCP connection to a cluster port
	Command         time.Duration // one command or memcached exchange
	ChronySync      time.Duration // wait for a freshly started chrony to select a source
	StickyRequests  int           // drill step 2
	KeyWait         time.Duration // async backup: poll for a session's key this long
	Failover        time.Duration // disruption -> first correct answer, at most
	ServiceStart    time.Duration // a restarted service answers again within
	Poll            time.Duration // between polls
	RestoreDeadline time.Duration // the whole restore, on a context of its own
	Recover         time.Duration // a disruption undone -> every Tomcat can take over again, at most
}

// DefaultTiming suits real hosts: MSM's node availability cache is 1 s,
// a Tomcat 9 starts in ~6 s on the lab machine kind.
var DefaultTiming = Timing{
	Request: 15 * time.Second,
	// A cluster port on the same LAN answers in milliseconds; what takes
	// longer is a firewall dropping the SYN, so say so early.
	Connect:         5 * time.Second,
	Command:         30 * time.Second,
	ChronySync:      15 * time.Second,
	StickyRequests:  20,
	KeyWait:         5 * time.Second,
	Failover:        30 * time.Second,
	ServiceStart:    180 * time.Second,
	Poll:            250 * time.Millisecond,
	RestoreDeadline: 5 * time.Minute,
	// A spymemcached that has not reconnected is healed within seconds;
	// the margin is for a Tomcat still starting after step 5.
	Recover: 2 * time.Minute,
}

// Options configure a run.
type Options struct {
	Drill bool
	// Hard makes the drill's disruptions crashes: SIGKILL (then held down)
	// instead of a clean stop.
	Hard bool
	// Load runs internal/loadgen's sessions through the proxy during each
	// disruptive drill step and reports what they saw.
	Load     bool
	Parallel int      // hosts checked at once; default 10
	Check    []string // host names to run health checks on; nil = every target
	Timing   Timing   // zero = DefaultTiming
	// Preflight, when set, runs apply's preflight as part of the health
	// checks: what would stop the next apply is a health problem now
	// (a squatter on a port, a full disk, a clock drifting away).
	Preflight func(context.Context) preflight.Report
	// Topo is the cluster's topology when the caller has built it already
	// (nil: Run builds it from the inventory).
	Topo *topology.Topology
}

// run is the state of one Run.
type run struct {
	inv     *inventory.Inventory
	topo    *topology.Topology
	targets map[string]Target
	order   []string
	timing  Timing
	sink    Sink
	hard    bool // drill disruptions are SIGKILLs
	load    bool // drill disruptions run under load

	mu      sync.Mutex
	results []Result
}

// Run checks every target's health, then runs the drill (opts.Drill), and
// returns all results; each one is also sent to sink as it is known.
// targets must hold every host of the cluster (unreachable ones with Err):
// cross-host checks and the drill need them.
func Run(ctx context.Context, inv *inventory.Inventory, targets []Target, opts Options, sink Sink) (Summary, error) {
	start := time.Now()
	r, err := newRunWith(inv, opts.Topo, targets, opts.Timing, sink)
	if err != nil {
		return Summary{}, err
	}
	r.hard, r.load = opts.Hard, opts.Load
	check := opts.Check
	if check == nil {
		check = r.order
	}
	sink.Begin(check, opts.Drill)

	// The preflight reads while the health checks do (both only read); its
	// results follow theirs.
	preflightDone := make(chan preflight.Report, 1)
	if opts.Preflight != nil {
		go func() { preflightDone <- opts.Preflight(ctx) }()
	}
	// Without the drill the takeover check only reads too (it heals
	// nothing), so it runs beside them as well; with it, it heals, and
	// waits for them.
	takeover := make(chan Result, 1)
	if !opts.Drill {
		go func() { takeover <- r.takeover(ctx, false) }()
	}
	r.health(ctx, check, max(opts.Parallel, 1))
	if opts.Preflight != nil {
		r.preflightHealth(check, <-preflightDone)
	}
	if opts.Drill {
		takeover <- r.takeover(ctx, true)
	}
	r.emit(<-takeover)
	if opts.Drill {
		r.drill(ctx)
	}
	s := Summary{Results: r.all(), Elapsed: time.Since(start), Drill: opts.Drill}
	sink.End(s)
	return s, nil
}

func newRun(inv *inventory.Inventory, targets []Target, timing Timing, sink Sink) (*run, error) {
	return newRunWith(inv, nil, targets, timing, sink)
}

func newRunWith(inv *inventory.Inventory, topo *topology.Topology, targets []Target, timing Timing, sink Sink) (*run, error) {
	if topo == nil {
		var err error
		if topo, err = topology.Build(inv); err != nil {
			return nil, fmt.Errorf("%s: %w", inv.File(), err)
		}
	}
	r := &run{inv: inv, topo: topo, targets: map[string]Target{}, timing: timing, sink: sink}
	if r.timing == (Timing{}) {
		r.timing = DefaultTiming
	}
	for _, t := range targets {
		r.targets[t.Host.Name] = t
		r.order = append(r.order, t.Host.Name)
	}
	return r, nil
}

// preflightHealth reports the preflight's results for the checked hosts
// as health checks named "preflight <check>". Connect is the ssh check
// already; a check preflight skipped is left out rather than repeated.
func (r *run) preflightHealth(hosts []string, rep preflight.Report) {
	want := map[string]bool{}
	for _, h := range hosts {
		want[h] = true
	}
	for _, p := range rep.Results {
		if !want[p.Host] || p.Check == preflight.CheckConnect || p.Status == preflight.StatusSkipped {
			continue
		}
		res := Result{Phase: PhaseHealth, Host: p.Host, Check: "preflight " + p.Check, Status: StatusOK, Reason: oneLine(p.Found)}
		if p.Status == preflight.StatusFailed {
			res.Status, res.Reason = StatusFailed, oneLine(p.Found+": "+p.Fix)
		}
		r.emit(res)
	}
}

// emit records a result and passes it on.
func (r *run) emit(res Result) {
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
	r.sink.Check(res)
}

func (r *run) all() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.results...)
}

// conn returns host's live connection, or nil with the reason.
func (r *run) conn(host string) (remote.Conn, string) {
	t, ok := r.targets[host]
	switch {
	case !ok:
		return nil, "no connection to " + host
	case t.Err != nil:
		return nil, host + " is unreachable over SSH"
	}
	return t.Conn, ""
}

// dialer returns host's tunnel maker, or nil with the reason.
func (r *run) dialer(host string) (TCPDialer, string) {
	c, why := r.conn(host)
	if c == nil {
		return nil, why
	}
	d := dialerOf(c)
	if d == nil {
		return nil, host + ": " + errNoTunnel
	}
	return d, ""
}

// read runs a health check's read-only command: one the host's batch
// (hostHealth) may already have read.
func (r *run) read(ctx context.Context, c remote.Conn, line string) (remote.Result, error) {
	return r.cmd(probe.ReadOnly(ctx), c, line)
}

// cmd runs a command on c bounded by the command timeout.
func (r *run) cmd(ctx context.Context, c remote.Conn, line string) (remote.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timing.Command)
	defer cancel()
	return c.Run(ctx, line)
}

package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// Drill step names, in order (steps 1-5; the summary is the sixth).
const (
	StepNewSession = "1 new session"
	StepSticky     = "2 stickiness"
	StepBackup     = "3 backup in memcached"
	StepMemcached  = "4 memcached failover"
	StepTomcat     = "5 tomcat failover"
	StepRestore    = "restore"
)

// drillEnv is what the drill does to the cluster. liveEnv does it over
// SSH; tests plug in a model of MSM.
type drillEnv interface {
	// Get requests the probe page through the proxy with session ("" = none).
	Get(ctx context.Context, session string) (Probe, error)
	// Key reads a memcached key on node, as host `from` reaches it.
	Key(ctx context.Context, from string, node topology.Node, key string) (value []byte, found bool, err error)
	// Stop stops a systemd unit on host.
	Stop(ctx context.Context, host, unit string) error
	// Start starts it again and returns once it answers.
	Start(ctx context.Context, host, unit string) error
	// Whole waits until every Tomcat can take over every other's sessions
	// again (healing what it may) after unit came back on host, and says
	// how long that took.
	Whole(ctx context.Context, host, unit string) (took time.Duration, note string, err error)
	// Load starts user sessions through the proxy for a disruptive step;
	// nil when the run has no --load.
	Load(ctx context.Context) (*loadgen.Load, error)
}

// drill is one run of the failover drill.
type drill struct {
	env    drillEnv
	topo   *topology.Topology
	fqdns  map[string]string
	keyFmt func(id string) (string, error)
	timing Timing
	emit   func(Result)

	recovery time.Duration // set by a step that undid its disruption (see Result.Recovery)

	last Probe           // the last correct answer: the session as it stands
	tc   topology.Tomcat // the Tomcat serving it
	undo []disruption    // stopped services not started again yet
}

// disruption is a service the drill stopped.
type disruption struct{ host, unit string }

func (d disruption) String() string { return d.unit + " on " + d.host }

// drill runs the drill over SSH, if every host can be reached: the drill
// must be able to undo what it does.
func (r *run) drill(ctx context.Context) {
	var down []string
	for _, name := range r.order {
		if _, why := r.conn(name); why != "" {
			down = append(down, name)
		}
	}
	var proxy inventory.Host
	for _, h := range r.inv.AllHosts() {
		if h.Has(inventory.RoleProxy) {
			proxy = h
			break
		}
	}
	p, why := r.proberFor(proxy)
	if len(down) > 0 {
		why = fmt.Sprintf("not every host is reachable over SSH (%s), so disruptions could not be undone", strings.Join(down, ", "))
	}
	if p == nil || len(down) > 0 {
		for _, s := range []string{StepNewSession, StepSticky, StepBackup, StepMemcached, StepTomcat} {
			r.emit(Result{Phase: PhaseDrill, Host: DrillHost, Check: s, Status: StatusSkipped, Reason: "drill not run: " + why})
		}
		return
	}
	env := &liveEnv{r: r, probe: p}
	r.newDrill(env).run(ctx)
}

func (r *run) newDrill(env drillEnv) *drill {
	fqdns := map[string]string{}
	for _, h := range r.inv.AllHosts() {
		fqdns[h.Name] = h.FQDN
	}
	return &drill{env: env, topo: r.topo, fqdns: fqdns, keyFmt: storageKeyFunc(r.inv.MSM.StorageKeyPrefix), timing: r.timing, emit: r.emit}
}

// run runs the steps in order. A failed step 1 or 2 stops the disruptive
// steps: a failover proves nothing about a session that does not even
// survive normal requests. Whatever happens, every stopped service is
// started again, on a context of its own so an interrupt (SIGINT) cannot
// stop the restore.
func (d *drill) run(ctx context.Context) {
	defer d.restore(ctx)
	blocker := "" // the first failed step: later steps that need it are skipped
	run := func(name string, needs string, f stepFunc) {
		var why error
		if needs != "" {
			why = fmt.Errorf("skipped: step %q failed", needs)
		}
		if !d.step(ctx, name, why, f) && blocker == "" {
			blocker = name
		}
	}
	run(StepNewSession, "", d.newSession)
	run(StepSticky, blocker, d.sticky)
	// Reading the backup disturbs nothing: worth doing for any session.
	needs := ""
	if blocker == StepNewSession {
		needs = blocker
	}
	run(StepBackup, needs, d.backup)
	if blocker == StepBackup {
		blocker = "" // a missing backup is what step 4 shows the effect of
	}
	run(StepMemcached, blocker, d.memcachedFailover)
	run(StepTomcat, blocker, d.tomcatFailover)
}

// stepFunc does one step and returns its latency (see Result.Latency) and
// a one-line outcome; err fails the step.
type stepFunc func(ctx context.Context) (latency time.Duration, outcome string, err error)

func (d *drill) step(ctx context.Context, name string, skipWhy error, f stepFunc) bool {
	if skipWhy != nil {
		d.emit(Result{Phase: PhaseDrill, Host: DrillHost, Check: name, Status: StatusSkipped, Reason: skipWhy.Error()})
		return false
	}
	if ctx.Err() != nil {
		d.emit(Result{Phase: PhaseDrill, Host: DrillHost, Check: name, Status: StatusSkipped, Reason: "interrupted"})
		return false
	}
	start := time.Now()
	d.recovery = 0
	var load *loadgen.Load
	if name == StepMemcached || name == StepTomcat {
		var err error
		if load, err = d.env.Load(ctx); err != nil {
			d.emit(Result{Phase: PhaseDrill, Host: DrillHost, Check: name, Status: StatusFailed, Reason: "starting the load: " + err.Error()})
			return false
		}
	}
	lat, outcome, err := f(ctx)
	res := Result{Phase: PhaseDrill, Host: DrillHost, Check: name, Status: StatusOK, Reason: oneLine(outcome), Latency: lat,
		Duration: time.Since(start), Recovery: d.recovery}
	if load != nil {
		rep := load.Stop()
		res.Load = &rep
		outcome += "; under load: " + rep.String()
		res.Reason = oneLine(outcome)
	}
	if err != nil {
		res.Status, res.Reason = StatusFailed, oneLine(err.Error())
		if ctx.Err() != nil && !strings.Contains(res.Reason, "interrupted") {
			res.Reason = "interrupted: " + res.Reason
		}
		if res.Load != nil {
			res.Reason += "; under load: " + res.Load.String()
		}
	}
	d.emit(res)
	return err == nil
}

// newSession is step 1. It asks without a cookie until every Tomcat has
// made a session (at most 3 requests per Tomcat: the balancer spreads new
// sessions, but ip_hash sends them all to one) and checks each; the first
// session is the one the drill follows.
func (d *drill) newSession(ctx context.Context) (time.Duration, string, error) {
	seen := map[string]string{}
	var first Probe
	var lat time.Duration
	for i := 0; i < 3*len(d.topo.Tomcats) && len(seen) < len(d.topo.Tomcats); i++ {
		start := time.Now()
		p, err := d.env.Get(ctx, "")
		if err != nil {
			return 0, "", err
		}
		tc, id, err := judgeNewSession(d.topo, d.fqdns, p)
		if err != nil {
			return 0, "", err
		}
		if i == 0 {
			first, lat, d.tc = p, time.Since(start), tc
		}
		if _, dup := seen[tc.Host]; !dup {
			seen[tc.Host] = tc.Host + " -> " + id.Node
		}
	}
	d.last = first
	var notes []string
	for _, tc := range d.topo.Tomcats {
		if s, ok := seen[tc.Host]; ok {
			notes = append(notes, s)
		} else {
			notes = append(notes, tc.Host+" got no new session (balancer sent none there)")
		}
	}
	return lat, fmt.Sprintf("following %s on %s; new sessions stored on: %s", first.Session, d.tc.Host, strings.Join(notes, ", ")), nil
}

// follow sends one request with the current session and adopts a new
// cookie the way a browser would.
func (d *drill) follow(ctx context.Context) (Probe, error) {
	cookie := d.last.Session
	if d.last.SetCookie != "" {
		cookie = d.last.SetCookie
	}
	return d.env.Get(ctx, cookie)
}

// sticky is step 2.
func (d *drill) sticky(ctx context.Context) (time.Duration, string, error) {
	var seq []Probe
	prev := d.last
	var worst time.Duration
	for range d.timing.StickyRequests {
		p, err := d.follow(ctx)
		if err != nil {
			return 0, "", fmt.Errorf("request %d of %d: %v", len(seq)+1, d.timing.StickyRequests, err)
		}
		seq = append(seq, p)
		d.last = p
		worst = max(worst, p.Took)
	}
	if err := judgeSticky(d.topo, d.fqdns, prev, seq); err != nil {
		return 0, "", err
	}
	return worst, fmt.Sprintf("%d requests all on %s, counter %d..%d", len(seq), d.tc.Host, seq[0].Counter, d.last.Counter), nil
}

// waitKey polls node (as host `from` reaches it) for the session's key:
// with sessionBackupAsync MSM writes after the response.
func (d *drill) waitKey(ctx context.Context, from string, session string) (time.Duration, string, error) {
	id, err := ParseSessionID(session)
	if err != nil {
		return 0, "", err
	}
	node, ok := d.topo.NodeByID(id.Node)
	if !ok {
		return 0, "", fmt.Errorf("session %s names node %s, which is not in memcachedNodes", session, id.Node)
	}
	key, err := d.keyFmt(session)
	if err != nil {
		return 0, "", err
	}
	start := time.Now()
	deadline := start.Add(d.timing.KeyWait)
	var lastErr error
	for {
		ctx1, cancel := context.WithTimeout(ctx, d.timing.Command)
		v, found, err := d.env.Key(ctx1, from, node, key)
		cancel()
		switch {
		case err == nil && found && !strings.Contains(string(v), session):
			// MSM's value header holds the session id (offset 44).
			return 0, "", fmt.Errorf("key %s on %s holds no MSM session with that id (%d bytes)", key, node.ID, len(v))
		case err == nil && found:
			return time.Since(start), fmt.Sprintf("key %s on %s (%s's memcached, %d bytes)", key, node.ID, node.Host, len(v)), nil
		}
		lastErr = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		sleep(ctx, d.timing.Poll)
	}
	if lastErr != nil {
		return 0, "", fmt.Errorf("reading key %s on %s (%s) from %s: %v", key, node.ID, node.Host, from, lastErr)
	}
	return 0, "", fmt.Errorf("no key %s on %s (%s's memcached) after %s: MSM did not back the session up there", key, node.ID, node.Host, d.timing.KeyWait)
}

// backup is step 3: read as the serving Tomcat reaches the node.
func (d *drill) backup(ctx context.Context) (time.Duration, string, error) {
	return d.waitKey(ctx, d.tc.Host, d.last.Session)
}

// disrupt stops a unit and remembers to start it again.
func (d *drill) disrupt(ctx context.Context, host, unit string) (time.Time, error) {
	// Recorded first: a stop that fails half-way must still be undone.
	d.undo = append(d.undo, disruption{host, unit})
	if err := d.env.Stop(ctx, host, unit); err != nil {
		return time.Time{}, fmt.Errorf("stopping %s on %s: %v", unit, host, err)
	}
	return time.Now(), nil
}

// heal starts the last disruption again, within the step, and waits until
// the cluster is whole again: a unit that is active is not yet a Tomcat
// that serves with MSM connected, and the next step (or the next run)
// would trip over what is still degraded.
func (d *drill) heal(ctx context.Context) (string, error) {
	u := d.undo[len(d.undo)-1]
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, d.timing.ServiceStart)
	defer cancel()
	if err := d.env.Start(sctx, u.host, u.unit); err != nil {
		return "", fmt.Errorf("starting %s again: %v", u, err)
	}
	d.undo = d.undo[:len(d.undo)-1]
	started := fmt.Sprintf("%s started again (%.1fs)", u, time.Since(start).Seconds())
	took, note, err := d.env.Whole(ctx, u.host, u.unit)
	d.recovery = time.Since(start)
	if err != nil {
		return "", fmt.Errorf("%s, but the cluster is not whole %.1fs later: %v", started, took.Seconds(), err)
	}
	return started + "; " + note, nil
}

// awaitFailover polls until judge calls an answer correct, and returns
// the time from `since` to that answer.
func (d *drill) awaitFailover(ctx context.Context, since time.Time, judge func(last, p Probe) (verdict, string)) (time.Duration, string, error) {
	deadline := since.Add(d.timing.Failover)
	lastWhy := "no answer yet"
	for {
		p, err := d.follow(ctx)
		switch {
		case err != nil:
			lastWhy = err.Error() // nginx may answer 502 until it notices
		default:
			v, why := judge(d.last, p)
			switch v {
			case broken:
				return 0, "", errors.New(why)
			case correct:
				d.last = p
				return p.At.Sub(since), why, nil
			}
			d.last, lastWhy = p, why // served, counter continued: keep following
		}
		if ctx.Err() != nil {
			return 0, "", fmt.Errorf("interrupted while waiting (%s)", lastWhy)
		}
		if time.Now().After(deadline) {
			return 0, "", fmt.Errorf("no failover within %s: %s", d.timing.Failover, lastWhy)
		}
		sleep(ctx, d.timing.Poll)
	}
}

// memcachedFailover is step 4.
func (d *drill) memcachedFailover(ctx context.Context) (time.Duration, string, error) {
	id, _ := ParseSessionID(d.last.Session)
	node, _ := d.topo.NodeByID(id.Node)
	t0, err := d.disrupt(ctx, node.Host, unitMemcached)
	if err != nil {
		return 0, "", err
	}
	lat, outcome, err := d.awaitFailover(ctx, t0, func(last, p Probe) (verdict, string) {
		return judgeMemcachedFailover(d.topo, d.tc, node.ID, last, p)
	})
	if err != nil {
		return 0, "", fmt.Errorf("%s stopped: %v", unitMemcached+" on "+node.Host, err)
	}
	if _, where, err := d.waitKey(ctx, d.tc.Host, d.last.Session); err != nil {
		return 0, "", fmt.Errorf("%s, but %v", outcome, err)
	} else {
		outcome += "; " + where
	}
	healed, err := d.heal(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("%s; %v", outcome, err)
	}
	return lat, fmt.Sprintf("memcached on %s stopped: %s; %s", node.Host, outcome, healed), nil
}

// tomcatFailover is step 5.
func (d *drill) tomcatFailover(ctx context.Context) (time.Duration, string, error) {
	down := d.tc.Host
	t0, err := d.disrupt(ctx, down, unitTomcat)
	if err != nil {
		return 0, "", err
	}
	lat, outcome, err := d.awaitFailover(ctx, t0, func(last, p Probe) (verdict, string) {
		return judgeTomcatFailover(d.topo, d.fqdns, down, last, p)
	})
	if err != nil {
		return 0, "", fmt.Errorf("tomcat on %s stopped: %v", down, err)
	}
	healed, err := d.heal(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("%s; %v", outcome, err)
	}
	return lat, fmt.Sprintf("tomcat on %s stopped: %s; %s", down, outcome, healed), nil
}

// restore starts everything still stopped, newest first, on a context
// that an interrupt of the run does not cancel.
func (d *drill) restore(ctx context.Context) {
	if len(d.undo) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timing.RestoreDeadline)
	defer cancel()
	start := time.Now()
	var done, failed []string
	for i := len(d.undo) - 1; i >= 0; i-- {
		u := d.undo[i]
		if err := d.env.Start(rctx, u.host, u.unit); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", u, err))
		} else {
			done = append(done, u.String())
		}
	}
	d.undo = nil
	res := Result{Phase: PhaseDrill, Host: DrillHost, Check: StepRestore, Status: StatusOK, Duration: time.Since(start), Latency: time.Since(start),
		Reason: "started again: " + strings.Join(done, ", ")}
	if len(failed) > 0 {
		res.Status = StatusFailed
		res.Reason = "COULD NOT START AGAIN: " + strings.Join(failed, "; ") + " (start it by hand: systemctl start <unit>)"
	}
	d.emit(res)
}

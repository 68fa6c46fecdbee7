package engine

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// DefaultParallel is how many hosts are converged at once when
// Options.Parallel is 0 (see the package comment for why 10).
const DefaultParallel = 10

// Options control a run.
type Options struct {
	DryRun   bool // Check only; changes are reported as changed, never applied
	Diff     bool // put unified diffs into step events
	Parallel int  // hosts at once; 0 means DefaultParallel
	// StateDir is where each host's journal and backups live; "" means
	// DefaultStateDir. Tests point it into a temp dir.
	StateDir string
}

// StateDirOrDefault is StateDir, or the default when it is unset.
func (o Options) StateDirOrDefault() string {
	if o.StateDir == "" {
		return defaultStateDir
	}
	return o.StateDir
}

// Run converges hosts with plays, hosts in parallel and plays in order on
// each host. A failed step stops its own host only. When ctx is cancelled,
// running steps see the cancellation, no new step starts, and every host
// that did not finish is marked Unfinished. sink may be nil.
func Run(ctx context.Context, hosts []*Host, plays []Play, opts Options, sink EventSink) Recap {
	start := time.Now()
	if sink == nil {
		sink = SinkFunc(func(Event) {})
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	r := &runner{opts: opts, sink: sink, plays: plays, invalid: ValidatePlays(plays)}

	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name()
	}
	playNames := make([]string, len(plays))
	for i, p := range plays {
		playNames[i] = p.Name
	}
	r.emit(Event{Type: EventRunStart, Hosts: names, Plays: playNames, DryRun: opts.DryRun})

	recaps := make([]HostRecap, len(hosts))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			if ctx.Err() != nil { // never started: say so rather than drop it
				recaps[i] = HostRecap{Host: h.Name(), Err: ctx.Err(), Unfinished: true}
				r.emit(Event{Type: EventHostDone, Host: h.Name(), HostRecap: &recaps[i], Err: ctx.Err()})
				return
			}
			recaps[i] = r.runHost(ctx, h)
		}()
	}
	wg.Wait()

	recap := Recap{Hosts: recaps, Elapsed: time.Since(start), DryRun: opts.DryRun}
	r.emit(Event{Type: EventRunRecap, Recap: &recap, DryRun: opts.DryRun})
	return recap
}

type runner struct {
	opts    Options
	sink    EventSink
	plays   []Play
	invalid error
}

func (r *runner) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.sink.Emit(e)
}

func (r *runner) runHost(ctx context.Context, h *Host) HostRecap {
	start := time.Now()
	ctx = stepContext(ctx, r.opts)
	rec := HostRecap{Host: h.Name()}
	r.emit(Event{Type: EventHostStart, Host: rec.Host})
	rec.Err = r.runPlays(ctx, h, &rec)
	if rec.Err != nil && ctx.Err() != nil {
		rec.Unfinished = true
	}
	rec.Elapsed = time.Since(start)
	done := rec
	r.emit(Event{Type: EventHostDone, Host: rec.Host, Duration: rec.Elapsed, Err: rec.Err, HostRecap: &done})
	return rec
}

func (r *runner) runPlays(ctx context.Context, h *Host, rec *HostRecap) error {
	if r.invalid != nil {
		return r.invalid
	}
	if h.unreachable != nil {
		rec.count(StatusFailed)
		r.emit(Event{Type: EventStep, Host: rec.Host, Step: "connect", Status: StatusFailed, Err: h.unreachable})
		return h.unreachable
	}
	if !h.Facts.Gathered() {
		t0 := time.Now()
		if err := h.GatherFacts(ctx); err != nil {
			rec.count(StatusFailed)
			r.emit(Event{Type: EventStep, Host: rec.Host, Step: "gather facts", Status: StatusFailed, Duration: time.Since(t0), Err: err})
			return err
		}
	}
	pending, err := readPending(ctx, h, r.opts.StateDirOrDefault())
	if err != nil {
		rec.count(StatusFailed)
		r.emit(Event{Type: EventStep, Host: rec.Host, Step: "read pending handlers", Status: StatusFailed, Err: err})
		return err
	}
	for _, p := range r.plays {
		if p.Hosts != nil && !p.Hosts(h) {
			continue
		}
		if err := r.runPlay(ctx, h, p, rec, pending); err != nil {
			return err
		}
	}
	return nil
}

// runPlay runs the steps, then the notified handlers. Handlers also run
// when a later step failed: the changes that notified them are already on
// the host, and a re-run would find those steps "ok" and never notify again
// (a config written but the service never restarted). They do not run when
// the run was interrupted.
//
// pending holds the marker names of handlers an earlier, interrupted run
// notified but never ran; they run now as if notified again.
func (r *runner) runPlay(ctx context.Context, h *Host, p Play, rec *HostRecap, pending map[string]bool) error {
	notifiedBy := map[string][]string{}
	for _, hd := range p.Handlers {
		if pending[path.Base(pendingMarker("", p.Name, hd.Title()))] {
			notifiedBy[hd.Title()] = []string{"an earlier run that stopped before it ran"}
		}
	}
	var failure error
	for _, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := r.runStep(ctx, h, p, s, EventStep)
		rec.count(res.status)
		if res.status == StatusChanged {
			for _, n := range notifiesOf(s) {
				notifiedBy[n] = append(notifiedBy[n], s.Title())
			}
		}
		if res.status == StatusFailed {
			failure = res.err
			break
		}
	}
	for _, hd := range p.Handlers {
		by, ok := notifiedBy[hd.Title()]
		if !ok {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var res stepResult
		if r.opts.DryRun && !isRolling(hd) {
			res = stepResult{status: StatusChanged}
			planOf(ctx).stepChanged(hd.Title())
			if rs, ok := hd.(Restart); ok && !rs.IfRunning {
				planOf(ctx).start(rs.Service)
			}
			r.emit(Event{Type: EventHandler, Host: rec.Host, Play: p.Name, Step: hd.Title(), Status: StatusChanged, DryRun: true,
				Summary: "would run (notified by " + strings.Join(by, ", ") + ")"})
		} else {
			res = r.runStep(ctx, h, p, hd, EventHandler)
			if res.deferred {
				rec.Deferred = append(rec.Deferred, Deferred{Play: p.Name, Handler: hd.Title(), Service: serviceOf(hd)})
			} else if res.status != StatusFailed {
				if err := clearPending(ctx, h, pendingMarker(r.opts.StateDirOrDefault(), p.Name, hd.Title())); err != nil {
					res = stepResult{status: StatusFailed, err: err}
				}
			}
		}
		rec.count(res.status)
		if res.status == StatusFailed && failure == nil {
			failure = res.err
		}
	}
	return failure
}

type stepResult struct {
	status   Status
	err      error
	deferred bool
}

func isRolling(s Step) bool {
	r, ok := s.(Restart)
	return ok && r.Rolling
}

func serviceOf(s Step) string {
	if r, ok := s.(Restart); ok {
		return r.Service
	}
	return ""
}

// ProgressInterval is how often a running step says so (a variable so
// that tests can shorten it).
var ProgressInterval = 5 * time.Second

// Bounded is a step that waits, and for how long at most: its progress
// says "up to" that.
type Bounded interface{ Bound() time.Duration }

// runStep checks, applies unless dry-run, and emits one step_start, a
// step_progress every ProgressInterval while the step runs (a wait, an
// upload, an install: signs of life on and off a terminal), and exactly
// one result event.
func (r *runner) runStep(ctx context.Context, h *Host, play Play, s Step, typ EventType) stepResult {
	t0 := time.Now()
	ev := Event{Type: typ, Host: h.Name(), Play: play.Name, Step: s.Title()}
	r.emit(Event{Type: EventStepStart, Host: ev.Host, Play: ev.Play, Step: ev.Step, DryRun: r.opts.DryRun})
	tr := &remote.Transfer{}
	stop := r.progress(ev, s, t0, tr)
	change, err := r.checkAndApply(remote.WithTransfer(ctx, tr), h, play.Name, s)
	stop()
	ev.Duration = time.Since(t0)
	switch {
	case err != nil:
		var assumed *AssumeError
		if reason, ok := isSkip(err); ok {
			ev.Status, ev.Summary = StatusSkipped, reason
			err = nil
		} else if r.opts.DryRun && errors.As(err, &assumed) {
			ev.Status, ev.Summary, ev.DryRun = StatusOK, assumed.Reason, true
			err = nil
		} else {
			ev.Status, ev.Err = StatusFailed, err
		}
	case change == nil:
		ev.Status = StatusOK
	default:
		ev.Status, ev.Summary, ev.DryRun = StatusChanged, change.Summary, r.opts.DryRun
		planOf(ctx).stepChanged(s.Title())
	}
	if change != nil && r.opts.Diff {
		ev.Diff = change.Diff
		if change.Sensitive && ev.Diff != "" {
			ev.Diff = HiddenDiff
		}
	}
	r.emit(ev)
	return stepResult{status: ev.Status, err: err, deferred: change != nil && change.deferred && err == nil}
}

// progress emits step_progress for ev's step until the returned stop is
// called; stop returns once no more progress can be emitted, so the
// result event always comes last. Its summary says how far an upload has
// got ("37 of 145 MiB uploaded, 25%"), else a wait's bound.
func (r *runner) progress(ev Event, s Step, t0 time.Time, tr *remote.Transfer) (stop func()) {
	bound := ""
	if b, ok := s.(Bounded); ok && b.Bound() > 0 {
		bound = "up to " + b.Bound().String()
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				summary := bound
				if done, total := tr.Bytes(); total > 0 {
					summary = fmt.Sprintf("%d of %d MiB uploaded, %d%%", done>>20, total>>20, done*100/total)
				}
				r.emit(Event{Type: EventStepProgress, Host: ev.Host, Play: ev.Play, Step: ev.Step, Duration: time.Since(t0), Summary: summary, DryRun: r.opts.DryRun})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// RunStep checks and (unless opts.DryRun) applies one step on h outside a
// play run, journalled and reported to sink as one EventStep of play, the
// way Run does it: for callers that sequence steps across hosts
// (internal/rollout).
func RunStep(ctx context.Context, h *Host, play string, s Step, opts Options, sink EventSink) (Status, error) {
	if sink == nil {
		sink = SinkFunc(func(Event) {})
	}
	r := &runner{opts: opts, sink: sink}
	res := r.runStep(stepContext(ctx, opts), h, Play{Name: play}, s, EventStep)
	return res.status, res.err
}

// ClearPending removes the pending marker of a deferred handler once the
// caller has run it.
func ClearPending(ctx context.Context, h *Host, opts Options, d Deferred) error {
	return clearPending(ctx, h, pendingMarker(opts.StateDirOrDefault(), d.Play, d.Handler))
}

func (r *runner) checkAndApply(ctx context.Context, h *Host, play string, s Step) (change *Change, err error) {
	// A bug in one step must fail that host, not crash the process and
	// abandon every other host half-converged.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in step %q: %v\n%s", s.Title(), p, debug.Stack())
		}
	}()
	// Check only reads: its reads may come from the run's batch.
	change, err = s.Check(probe.ReadOnly(ctx), h)
	if err != nil || change == nil || r.opts.DryRun || change.deferred {
		return change, err
	}
	if err := ctx.Err(); err != nil {
		return change, err
	}
	if change.Apply == nil {
		return change, fmt.Errorf("step %q: change has no Apply", s.Title())
	}
	// Write-ahead: the journal (and the backup of a file about to be
	// replaced) is on the host before the change is, or the change does not
	// happen. A no-op run never gets here, so it costs no round trip.
	// The handlers this change notifies are marked pending in the same
	// round trip, so an interruption before they run cannot lose them.
	var markers []string
	for _, hd := range notifiesOf(s) {
		markers = append(markers, pendingMarker(r.opts.StateDirOrDefault(), play, hd))
	}
	n := len(change.Records)
	if n > 0 || len(markers) > 0 {
		if err := persist(ctx, h, r.opts.StateDirOrDefault(), s.Title(), change.Records, markers); err != nil {
			return change, err
		}
	}
	applyErr := change.Apply(ctx)
	// What Apply learned is stored even when it then failed: a package
	// install that broke half-way may still have installed dependencies.
	if len(change.Records) > n {
		if err := persist(ctx, h, r.opts.StateDirOrDefault(), s.Title(), change.Records[n:], nil); err != nil && applyErr == nil {
			applyErr = err
		}
	}
	return change, applyErr
}

package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stepFunc is a step made of plain functions, for runner tests.
type stepFunc struct {
	title string
	check func(ctx context.Context, h *Host) (*Change, error)
}

func (s stepFunc) Title() string { return s.title }
func (s stepFunc) Check(ctx context.Context, h *Host) (*Change, error) {
	return s.check(ctx, h)
}

// counting is a step that always wants to change and counts its Applies.
func counting(title string, applied *atomic.Int32) Step {
	return stepFunc{title: title, check: func(ctx context.Context, h *Host) (*Change, error) {
		return &Change{Summary: "do it", Apply: func(context.Context) error { applied.Add(1); return nil }}, nil
	}}
}

func failing(title string) Step {
	return stepFunc{title: title, check: func(ctx context.Context, h *Host) (*Change, error) {
		return nil, errors.New("boom")
	}}
}

func okStep(title string) Step {
	return stepFunc{title: title, check: func(context.Context, *Host) (*Change, error) { return nil, nil }}
}

// kindsFixture returns steps of every file-level kind, rooted in dir.
func kindsFixture(t *testing.T, dir string) []Step {
	writeFile(t, filepath.Join(dir, "hosts"), "127.0.0.1 localhost\n")
	return []Step{
		Directory{Path: filepath.Join(dir, "opt", "app")},
		File{Path: filepath.Join(dir, "opt", "app", "app.conf"), Content: []byte("port=8080\n")},
		Template{Path: filepath.Join(dir, "opt", "app", "node"), Text: "{{.Host}}\n"},
		Block{Path: filepath.Join(dir, "hosts"), Name: "cluster", Content: "10.0.0.1 t58\n"},
		Symlink{Path: filepath.Join(dir, "current"), Target: filepath.Join(dir, "opt", "app")},
		Command{Label: "mark", Cmd: "touch " + Quote(filepath.Join(dir, "marker")), Creates: filepath.Join(dir, "marker")},
	}
}

func TestIdempotentAcrossKinds(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	steps := kindsFixture(t, dir)
	rc, _ := converge(t, h, Options{}, steps...)
	if rc.Failed() || rc.Hosts[0].Changed != len(steps) {
		t.Fatalf("first run: %+v", rc.Hosts[0])
	}
	before := snapshot(t, dir)
	rc, evs := converge(t, h, Options{}, steps...)
	if rc.Hosts[0].Changed != 0 || rc.Hosts[0].OK != len(steps) {
		for _, e := range stepEvents(evs) {
			t.Logf("%s %s %s", e.Step, e.Status, e.Summary)
		}
		t.Fatalf("second run: %+v", rc.Hosts[0])
	}
	if snapshot(t, dir) != before {
		t.Fatal("second run modified files")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	dir := t.TempDir()
	h, c := newTestHost("h1")
	var applied atomic.Int32
	steps := append(kindsFixture(t, dir), Notify(counting("custom", &applied), "restart app"))
	before := snapshot(t, dir)
	var col Collector
	play := Play{Name: "p", Steps: steps, Handlers: []Step{counting("restart app", &applied)}}
	rc := Run(context.Background(), []*Host{h}, []Play{play}, Options{DryRun: true, Diff: true}, &col)

	if snapshot(t, dir) != before {
		t.Fatal("dry-run modified files")
	}
	if applied.Load() != 0 || len(c.Writes()) != 0 {
		t.Fatalf("dry-run applied %d changes, wrote %q", applied.Load(), c.Writes())
	}
	// Only read-only commands may have run.
	for _, cmd := range c.Commands() {
		if strings.Contains(cmd, "touch") && !strings.HasPrefix(cmd, "test -e") {
			t.Fatalf("dry-run ran %q", cmd)
		}
	}
	if rc.Failed() || rc.Hosts[0].Changed != len(steps)+1 || !rc.DryRun {
		t.Fatalf("every step should report would-change: %+v", rc.Hosts[0])
	}
	for _, e := range stepEvents(col.Events()) {
		if !e.DryRun || e.Status != StatusChanged {
			t.Fatalf("event %+v", e)
		}
		if e.Type == EventHandler && !strings.HasPrefix(e.Summary, "would run (notified by custom)") {
			t.Fatalf("handler in dry-run: %+v", e)
		}
	}
}

func TestFailingHostDoesNotStopOthers(t *testing.T) {
	good, _ := newTestHost("good")
	bad, _ := newTestHost("bad")
	var ran atomic.Int32
	play := Play{Name: "p", Steps: []Step{
		When(func(h *Host) bool { return h.Name() == "bad" }, "only bad fails", failing("may fail")),
		counting("after", &ran),
	}}
	rc := Run(context.Background(), []*Host{bad, good}, []Play{play}, Options{}, nil)
	if rc.Hosts[0].Err == nil || rc.Hosts[1].Err != nil {
		t.Fatalf("recap %+v", rc.Hosts)
	}
	if ran.Load() != 1 {
		t.Fatalf("the good host should run its second step, ran %d", ran.Load())
	}
	if !rc.Failed() || rc.FailedHosts() != 1 {
		t.Fatalf("Failed() %v FailedHosts %d", rc.Failed(), rc.FailedHosts())
	}
	if g := rc.Hosts[1]; g.Skipped != 1 || g.Changed != 1 {
		t.Fatalf("good host counts %+v", g)
	}
}

func TestFailingStepStopsRestOfItsHost(t *testing.T) {
	h, _ := newTestHost("h1")
	var ran atomic.Int32
	plays := []Play{
		{Name: "first", Steps: []Step{counting("a", &ran), failing("b"), counting("c", &ran)}},
		{Name: "second", Steps: []Step{counting("d", &ran)}},
	}
	var col Collector
	rc := Run(context.Background(), []*Host{h}, plays, Options{}, &col)
	if ran.Load() != 1 {
		t.Fatalf("steps after the failure ran: %d", ran.Load())
	}
	r := rc.Hosts[0]
	if r.Changed != 1 || r.Failed != 1 || r.Err == nil || !strings.Contains(r.Err.Error(), "boom") || r.Unfinished {
		t.Fatalf("recap %+v", r)
	}
	var titles []string
	for _, e := range stepEvents(col.Events()) {
		titles = append(titles, e.Step+"="+string(e.Status))
	}
	if strings.Join(titles, " ") != "a=changed b=failed" {
		t.Fatalf("events %v", titles)
	}
}

func TestHandlersRunOnceOnlyAfterChange(t *testing.T) {
	h, _ := newTestHost("h1")
	var work, restarts, reloads atomic.Int32
	play := func(change bool) Play {
		step := func(title string) Step {
			if change {
				return Notify(counting(title, &work), "restart app")
			}
			return Notify(okStep(title), "restart app")
		}
		return Play{
			Name:     "p",
			Steps:    []Step{step("config 1"), step("config 2"), Notify(okStep("unchanged"), "reload other")},
			Handlers: []Step{counting("restart app", &restarts), counting("reload other", &reloads)},
		}
	}
	var col Collector
	Run(context.Background(), []*Host{h}, []Play{play(true)}, Options{}, &col)
	if restarts.Load() != 1 || reloads.Load() != 0 {
		t.Fatalf("restarts %d (want 1), reloads %d (want 0)", restarts.Load(), reloads.Load())
	}
	evs := stepEvents(col.Events())
	if last := evs[len(evs)-1]; last.Type != EventHandler || last.Step != "restart app" {
		t.Fatalf("handler must run after all steps: %+v", last)
	}
	Run(context.Background(), []*Host{h}, []Play{play(false)}, Options{}, nil)
	if restarts.Load() != 1 {
		t.Fatal("handler ran although nothing changed")
	}
}

// A change already made still gets its handler when a later step fails;
// the next run would not notify again.
func TestHandlersFlushedWhenLaterStepFails(t *testing.T) {
	h, _ := newTestHost("h1")
	var n, restarts atomic.Int32
	play := Play{Name: "p",
		Steps:    []Step{Notify(counting("config", &n), "restart"), failing("later")},
		Handlers: []Step{counting("restart", &restarts)},
	}
	rc := Run(context.Background(), []*Host{h}, []Play{play}, Options{}, nil)
	if restarts.Load() != 1 || !rc.Failed() {
		t.Fatalf("restarts %d, recap %+v", restarts.Load(), rc.Hosts[0])
	}
}

func TestInvalidNotifyFailsBeforeTouchingHosts(t *testing.T) {
	h, _ := newTestHost("h1")
	var n atomic.Int32
	play := Play{Name: "p", Steps: []Step{Notify(counting("x", &n), "typo")}}
	rc := Run(context.Background(), []*Host{h}, []Play{play}, Options{}, nil)
	if !rc.Failed() || n.Load() != 0 || !strings.Contains(rc.Hosts[0].Err.Error(), `"typo"`) {
		t.Fatalf("%+v applied %d", rc.Hosts[0], n.Load())
	}
}

func TestUnreachableHostFailsAloneWithItsError(t *testing.T) {
	good, _ := newTestHost("good")
	dead := UnreachableHost("dead", errors.New("dial tcp 10.250.0.9:22: connection refused"))
	var n atomic.Int32
	var col Collector
	rc := Run(context.Background(), []*Host{dead, good}, []Play{{Name: "p", Steps: []Step{counting("x", &n)}}}, Options{}, &col)
	if n.Load() != 1 || rc.Hosts[1].Err != nil || rc.FailedHosts() != 1 {
		t.Fatalf("the reachable host must still converge: %+v", rc.Hosts)
	}
	d := rc.Hosts[0]
	if d.Err == nil || !strings.Contains(d.Err.Error(), "connection refused") || d.Failed != 1 || d.Unfinished {
		t.Fatalf("dead host recap %+v", d)
	}
	var deadEvents []string
	for _, e := range stepEvents(col.Events()) {
		if e.Host == "dead" {
			deadEvents = append(deadEvents, e.Step+"="+string(e.Status))
		}
	}
	if strings.Join(deadEvents, " ") != "connect=failed" {
		t.Fatalf("dead host events %v", deadEvents)
	}
}

func TestPlayHostSelection(t *testing.T) {
	a, _ := newTestHost("proxy")
	b, _ := newTestHost("t58")
	var n atomic.Int32
	rc := Run(context.Background(), []*Host{a, b}, []Play{{Name: "p", Hosts: OnHosts("t58"), Steps: []Step{counting("x", &n)}}}, Options{}, nil)
	if n.Load() != 1 || rc.Hosts[0].Changed != 0 || rc.Hosts[1].Changed != 1 {
		t.Fatalf("%+v", rc.Hosts)
	}
}

func TestCancellationMarksUnfinishedHosts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hosts []*Host
	for _, n := range []string{"h1", "h2", "h3"} {
		h, _ := newTestHost(n)
		hosts = append(hosts, h)
	}
	var after atomic.Int32
	// The first host to run cancels the run while its command is running
	// (a real `sleep` through the shell); with Parallel 1 the others never
	// start.
	slow := stepFunc{title: "slow", check: func(ctx context.Context, h *Host) (*Change, error) {
		cancel()
		_, err := h.Conn.Run(ctx, "sleep 5")
		return nil, err
	}}
	start := time.Now()
	rc := Run(ctx, hosts, []Play{{Name: "p", Steps: []Step{slow, counting("after", &after)}}}, Options{Parallel: 1}, nil)
	if time.Since(start) > 3*time.Second {
		t.Fatal("cancellation did not stop the running command")
	}
	if after.Load() != 0 {
		t.Fatal("a step started after cancellation")
	}
	for _, r := range rc.Hosts {
		if !r.Unfinished || r.Err == nil {
			t.Fatalf("host %+v should be unfinished", r)
		}
	}
	if !rc.Failed() {
		t.Fatal("an interrupted run is not a success")
	}
}

func TestParallelIsBounded(t *testing.T) {
	var hosts []*Host
	for i := 0; i < 6; i++ {
		h, _ := newTestHost(string(rune('a' + i)))
		hosts = append(hosts, h)
	}
	var cur, peak atomic.Int32
	step := stepFunc{title: "s", check: func(ctx context.Context, h *Host) (*Change, error) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		cur.Add(-1)
		return nil, nil
	}}
	Run(context.Background(), hosts, []Play{{Name: "p", Steps: []Step{step}}}, Options{Parallel: 2}, nil)
	if peak.Load() != 2 {
		t.Fatalf("peak concurrency %d, want 2", peak.Load())
	}
}

func TestPanickingStepFailsOnlyItsHost(t *testing.T) {
	a, _ := newTestHost("a")
	b, _ := newTestHost("b")
	boom := stepFunc{title: "buggy", check: func(ctx context.Context, h *Host) (*Change, error) {
		if h.Name() == "a" {
			panic("bug")
		}
		return nil, nil
	}}
	rc := Run(context.Background(), []*Host{a, b}, []Play{{Name: "p", Steps: []Step{boom}}}, Options{}, nil)
	if rc.Hosts[0].Err == nil || !strings.Contains(rc.Hosts[0].Err.Error(), "panic") || rc.Hosts[1].Err != nil {
		t.Fatalf("%+v", rc.Hosts)
	}
}

func TestEventsShape(t *testing.T) {
	h, _ := newTestHost("h1")
	var col Collector
	Run(context.Background(), []*Host{h}, []Play{{Name: "p", Steps: []Step{okStep("s")}}}, Options{}, &col)
	var types []string
	for _, e := range col.Events() {
		types = append(types, string(e.Type))
		if e.Time.IsZero() {
			t.Fatalf("event without time: %+v", e)
		}
	}
	if got := strings.Join(types, ","); got != "run_start,host_start,step_start,step,host_done,recap" {
		t.Fatalf("events %s", got)
	}
	evs := col.Events()
	if evs[0].Hosts[0] != "h1" || evs[0].Plays[0] != "p" || evs[2].Step != "s" || evs[4].HostRecap.OK != 1 || evs[5].Recap.Totals().OK != 1 {
		t.Fatalf("payloads %+v", evs)
	}
	if d := evs[3].Duration; d <= 0 {
		t.Fatalf("step duration %v", d)
	}
}

func TestSensitiveChangeDiffHiddenByRunner(t *testing.T) {
	h, _ := newTestHost("h1")
	leaky := stepFunc{title: "leaky", check: func(context.Context, *Host) (*Change, error) {
		return &Change{Summary: "update", Diff: "+password=x", Sensitive: true, Apply: func(context.Context) error { return nil }}, nil
	}}
	_, evs := converge(t, h, Options{Diff: true}, leaky)
	if d := stepEvents(evs)[0].Diff; d != HiddenDiff {
		t.Fatalf("diff %q", d)
	}
	_, evs = converge(t, h, Options{}, File{Path: filepath.Join(t.TempDir(), "x"), Content: []byte("y\n")})
	if d := stepEvents(evs)[0].Diff; d != "" {
		t.Fatalf("diff without --diff: %q", d)
	}
}

// A step that runs long says so every ProgressInterval, with its time so
// far and, for a wait, its bound; its result comes after the last of them.
func TestSlowStepReportsProgress(t *testing.T) {
	old := ProgressInterval
	ProgressInterval = 20 * time.Millisecond
	t.Cleanup(func() { ProgressInterval = old })
	h, _ := newTestHost("h1")
	slow := slowBounded{d: 150 * time.Millisecond}
	var col Collector
	Run(context.Background(), []*Host{h}, []Play{{Name: "p", Steps: []Step{slow}}}, Options{}, &col)
	var progress []Event
	last := ""
	for _, e := range col.Events() {
		if e.Type == EventStepProgress {
			progress = append(progress, e)
		}
		if e.Type == EventStepProgress || e.Type == EventStep {
			last = string(e.Type)
		}
	}
	if len(progress) < 3 || last != string(EventStep) {
		t.Fatalf("%d progress events, last %s: want several, then the result", len(progress), last)
	}
	if p := progress[len(progress)-1]; p.Step != "slow" || p.Duration < 40*time.Millisecond || p.Summary != "up to 2m0s" {
		t.Errorf("progress %+v", p)
	}
}

type slowBounded struct{ d time.Duration }

func (s slowBounded) Title() string        { return "slow" }
func (s slowBounded) Bound() time.Duration { return 2 * time.Minute }
func (s slowBounded) Check(ctx context.Context, h *Host) (*Change, error) {
	time.Sleep(s.d)
	return nil, nil
}

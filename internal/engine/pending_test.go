package engine

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// A run interrupted after a config change but before its handler ran must
// run the handler on the next run, although the config step is "ok" then.
func TestPendingHandlerSurvivesInterruptedRun(t *testing.T) {
	h, _ := newTestHost("h1")
	state := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "app.conf")
	var restarts atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	interrupt := stepFunc{title: "interrupt", check: func(context.Context, *Host) (*Change, error) {
		cancel() // SIGINT lands between the change and the end of the play
		return nil, nil
	}}
	play := func(extra ...Step) Play {
		steps := append([]Step{Notify(File{Path: cfg, Content: []byte("v2\n")}, "restart app")}, extra...)
		return Play{Name: "app", Steps: steps, Handlers: []Step{counting("restart app", &restarts)}}
	}

	rc := Run(ctx, []*Host{h}, []Play{play(interrupt)}, Options{StateDir: state}, nil)
	if !rc.Hosts[0].Unfinished || restarts.Load() != 0 {
		t.Fatalf("first run: unfinished=%v restarts=%d, want interrupted before the handler", rc.Hosts[0].Unfinished, restarts.Load())
	}
	if got, _ := os.ReadFile(cfg); string(got) != "v2\n" {
		t.Fatalf("config not written by the interrupted run: %q", got)
	}

	var col Collector
	rc = Run(context.Background(), []*Host{h}, []Play{play()}, Options{StateDir: state}, &col)
	if rc.Failed() || restarts.Load() != 1 {
		t.Fatalf("second run: failed=%v restarts=%d, want the pending handler to run once", rc.Failed(), restarts.Load())
	}
	if rc.Hosts[0].Changed != 1 { // the handler only: the file is already in state
		t.Errorf("second run changed %d, want 1 (the handler)", rc.Hosts[0].Changed)
	}

	Run(context.Background(), []*Host{h}, []Play{play()}, Options{StateDir: state}, nil)
	if restarts.Load() != 1 {
		t.Fatalf("third run restarted again (%d): the marker was not cleared", restarts.Load())
	}
}

// Dry-run reports a pending handler as would-run and leaves its marker.
func TestPendingHandlerDryRun(t *testing.T) {
	h, _ := newTestHost("h1")
	state := t.TempDir()
	marker := pendingMarker(state, "app", "restart app")
	os.MkdirAll(filepath.Dir(marker), 0o700)
	os.WriteFile(marker, nil, 0o600)
	var restarts atomic.Int32
	play := Play{Name: "app", Steps: []Step{okStep("config")}, Handlers: []Step{counting("restart app", &restarts)}}
	rc := Run(context.Background(), []*Host{h}, []Play{play}, Options{StateDir: state, DryRun: true}, nil)
	if restarts.Load() != 0 || rc.Hosts[0].Changed != 1 {
		t.Fatalf("dry run: restarts=%d changed=%d, want 0 and 1 (would run)", restarts.Load(), rc.Hosts[0].Changed)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("dry run removed the marker: %v", err)
	}
}

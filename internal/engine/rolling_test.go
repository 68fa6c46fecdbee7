package engine

import (
	"context"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A Rolling restart is never run by Run: a running service is reported as
// Deferred with its pending marker kept for the rollout; a stopped one
// needs no restart and its marker goes.
func TestRollingRestartIsDeferredOnlyWhenRunning(t *testing.T) {
	for _, running := range []bool{false, true} {
		h, c := newTestHost("h1")
		state := stubTools(t, c)
		opts := Options{StateDir: filepath.Join(t.TempDir(), "state")}
		if running {
			converge(t, h, opts, Service{Name: "tomcat", State: Started})
		}
		hd := Restart{Service: "tomcat", Rolling: true, Label: "restart tomcat"}
		conf := filepath.Join(t.TempDir(), "server.xml")
		play := Play{Name: "tomcat", Steps: []Step{Notify(File{Path: conf, Content: []byte("x\n")}, hd.Title())}, Handlers: []Step{hd}}
		rc := Run(context.Background(), []*Host{h}, []Play{play}, opts, nil)
		got := rc.Hosts[0].Deferred
		pending, err := readPending(context.Background(), h, opts.StateDirOrDefault())
		if err != nil {
			t.Fatal(err)
		}
		d := Deferred{Play: "tomcat", Handler: "restart tomcat", Service: "tomcat"}
		if running {
			if !slices.Equal(got, []Deferred{d}) || !pending[path.Base(pendingMarker("", d.Play, d.Handler))] {
				t.Fatalf("running: deferred %v, pending %v; want the restart deferred and pending", got, pending)
			}
			if err := ClearPending(context.Background(), h, opts, d); err != nil {
				t.Fatal(err)
			}
			if pending, _ = readPending(context.Background(), h, opts.StateDirOrDefault()); len(pending) != 0 {
				t.Errorf("ClearPending left %v", pending)
			}
		} else if len(got) != 0 || len(pending) != 0 {
			t.Fatalf("stopped: deferred %v, pending %v; want neither", got, pending)
		}
		for _, l := range stubLog(t, state) {
			if strings.Contains(l, "restart") {
				t.Errorf("Run restarted the service itself: %q", l)
			}
		}
	}
}

// Only where RestartNowIf holds does a running service restart at once, as
// a plain handler; where it fails, for whatever reason (memcached holds
// items, or cannot be read at all), the restart is deferred to the rollout.
func TestRollingRestartAtOnceOnlyWhereRestartNowIfHolds(t *testing.T) {
	for _, tc := range []struct {
		cond string
		now  bool
	}{
		{"true", true},
		{"false", false},
		{"no-such-probe-command", false}, // the condition cannot even run
	} {
		h, c := newTestHost("h1")
		state := stubTools(t, c)
		opts := Options{StateDir: filepath.Join(t.TempDir(), "state")}
		converge(t, h, opts, Service{Name: "memcached", State: Started})
		hd := Restart{Service: "memcached", Rolling: true, RestartNowIf: tc.cond, Label: "restart memcached"}
		conf := filepath.Join(t.TempDir(), "memcached.conf")
		play := Play{Name: "memcached", Steps: []Step{Notify(File{Path: conf, Content: []byte("-m 64\n")}, hd.Title())}, Handlers: []Step{hd}}
		rc := Run(context.Background(), []*Host{h}, []Play{play}, opts, nil)
		if rc.Failed() {
			t.Fatalf("RestartNowIf %s: %v", tc.cond, rc.Hosts[0].Err)
		}
		restarted := slices.ContainsFunc(stubLog(t, state), func(l string) bool { return strings.Contains(l, "restart memcached") })
		deferred := len(rc.Hosts[0].Deferred) == 1
		if deferred == tc.now || restarted != tc.now {
			t.Errorf("RestartNowIf %s: deferred %v, restarted at once %v", tc.cond, deferred, restarted)
		}
	}
}

// A dry run cannot ask a service that only the run would start; one that
// has just started holds nothing, so the plan is the real run's: at once.
func TestRollingRestartDryRunForAServiceTheRunStarts(t *testing.T) {
	h, c := newTestHost("h1")
	stubTools(t, c)
	hd := Restart{Service: "memcached", Rolling: true, RestartNowIf: "false", Label: "restart memcached"}
	conf := filepath.Join(t.TempDir(), "memcached.conf")
	play := Play{Name: "memcached", Steps: []Step{
		Notify(File{Path: conf, Content: []byte("-m 64\n")}, hd.Title()),
		Service{Name: "memcached", State: Started},
	}, Handlers: []Step{hd}}
	var col Collector
	rc := Run(context.Background(), []*Host{h}, []Play{play}, Options{DryRun: true, StateDir: filepath.Join(t.TempDir(), "state")}, &col)
	if rc.Failed() || len(rc.Hosts[0].Deferred) != 0 {
		t.Fatalf("dry run: %+v", rc.Hosts[0])
	}
	evs := stepEvents(col.Events())
	if last := evs[len(evs)-1]; last.Step != "restart memcached" || last.Status != StatusChanged || !strings.Contains(last.Summary, "systemctl restart") {
		t.Fatalf("dry run's handler: %+v", last)
	}
}

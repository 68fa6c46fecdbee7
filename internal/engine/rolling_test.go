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
		pending, err := readPending(context.Background(), h, opts.stateDir())
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
			if pending, _ = readPending(context.Background(), h, opts.stateDir()); len(pending) != 0 {
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

// Where RollIf does not hold, a running service restarts at once, as a
// plain handler: nothing to roll for (memcached holding no item).
func TestRollingRestartRestartsAtOnceUnlessRollIf(t *testing.T) {
	for _, cond := range []string{"true", "false"} {
		h, c := newTestHost("h1")
		state := stubTools(t, c)
		opts := Options{StateDir: filepath.Join(t.TempDir(), "state")}
		converge(t, h, opts, Service{Name: "memcached", State: Started})
		hd := Restart{Service: "memcached", Rolling: true, RollIf: cond, Label: "restart memcached"}
		conf := filepath.Join(t.TempDir(), "memcached.conf")
		play := Play{Name: "memcached", Steps: []Step{Notify(File{Path: conf, Content: []byte("-m 64\n")}, hd.Title())}, Handlers: []Step{hd}}
		rc := Run(context.Background(), []*Host{h}, []Play{play}, opts, nil)
		restarted := slices.ContainsFunc(stubLog(t, state), func(l string) bool { return strings.Contains(l, "restart memcached") })
		deferred := len(rc.Hosts[0].Deferred) == 1
		if deferred != (cond == "true") || restarted != (cond == "false") {
			t.Errorf("RollIf %s: deferred %v, restarted at once %v", cond, deferred, restarted)
		}
	}
}

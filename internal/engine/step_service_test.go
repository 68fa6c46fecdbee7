package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestServiceCommands(t *testing.T) {
	yes, no := Bool(true), Bool(false)
	tests := []struct {
		name              string
		state             string
		enabled           *bool
		active, isEnabled bool
		want              []string
	}{
		{"start and enable", Started, yes, false, false, []string{"systemctl enable --now memcached"}},
		{"already running and enabled", Started, yes, true, true, nil},
		{"start only", Started, nil, false, true, []string{"systemctl start memcached"}},
		{"enable only", "", yes, false, false, []string{"systemctl enable memcached"}},
		{"running, enable", Started, yes, true, false, []string{"systemctl enable memcached"}},
		{"stop and disable", Stopped, no, true, true, []string{"systemctl disable --now memcached"}},
		{"stop only", Stopped, nil, true, true, []string{"systemctl stop memcached"}},
		{"disable but keep running", Started, no, true, true, []string{"systemctl disable memcached"}},
		{"enabled but stopped", Stopped, yes, false, false, []string{"systemctl enable memcached"}},
		{"start but disable", Started, no, false, true, []string{"systemctl disable memcached", "systemctl start memcached"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := serviceCmds("memcached", tc.state, tc.enabled, tc.active, tc.isEnabled)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
	// systemd is the same on both families: so are the commands.
	if got := restartCmd(Restart{Service: "tomcat", DaemonReload: true}); got != "systemctl daemon-reload && systemctl restart tomcat" {
		t.Errorf("restart: %q", got)
	}
	if got := restartCmd(Restart{Service: "nginx", Reload: true}); got != "systemctl reload nginx" {
		t.Errorf("reload: %q", got)
	}
	// IfRunning must never start a stopped service.
	if got := restartCmd(Restart{Service: "tomcat", IfRunning: true}); got != "systemctl try-restart tomcat" {
		t.Errorf("restart if running: %q", got)
	}
	if got := restartCmd(Restart{Service: "nginx", Reload: true, IfRunning: true}); got != "systemctl try-reload-or-restart nginx" {
		t.Errorf("reload if running: %q", got)
	}
}

func TestServiceConvergesThroughSystemctl(t *testing.T) {
	h, c := newTestHost("h1")
	state := stubTools(t, c)
	step := Service{Name: "memcached", State: Started, Enabled: Bool(true)}
	rc, _ := converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 1 {
		t.Fatalf("%+v", rc.Hosts[0])
	}
	before := len(c.Commands())
	rc, _ = converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 0 {
		t.Fatalf("second run: %+v", rc.Hosts[0])
	}
	// A no-op check is one round trip; the run adds one for facts/pending.
	var checks int
	for _, cmd := range c.Commands()[before:] {
		if strings.Contains(cmd, "systemctl") {
			checks++
		}
	}
	if checks != 1 {
		t.Errorf("no-op service check took %d round trips, want 1", checks)
	}
	want := []string{
		"systemctl is-active memcached", "systemctl is-enabled memcached", "systemctl enable --now memcached",
		"systemctl is-active memcached", "systemctl is-enabled memcached",
	}
	if got := stubLog(t, state); !slices.Equal(got, want) {
		t.Fatalf("ran %q", got)
	}
}

func TestServiceRejectsMasked(t *testing.T) {
	h, c := newTestHost("h1")
	stubTools(t, c)
	// A unit that reports "masked": starting it can only fail, say why.
	overrideStub(t, c, "systemctl", `[ "$1" = is-enabled ] && { echo masked; exit 1; }; echo inactive; exit 3`)
	rc, _ := converge(t, h, Options{}, Service{Name: "tomcat", State: Started})
	if !rc.Failed() || !strings.Contains(rc.Hosts[0].Err.Error(), "is masked") {
		t.Fatalf("starting a masked unit must fail in Check, saying why: %v", rc.Hosts[0].Err)
	}
}

// A restart with work while stopped runs stop, the work, start, in that
// order, with a real shell; when the work fails the service is started
// anyway and the restart fails, so a failed swap never leaves it stopped.
func TestRestartWhileStoppedStartsWhateverTheWorkDid(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte("#!/bin/sh\necho \"systemctl $*\" >> "+log+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		work string
		ok   bool
	}{{"echo work >> " + log, true}, {"echo work >> " + log + "; exit 3", false}} {
		os.Remove(log)
		cmd := exec.Command("sh", "-c", restartCmd(Restart{Service: "tomcat", DaemonReload: true, WhileStopped: c.work}))
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		err := cmd.Run()
		got, _ := os.ReadFile(log)
		if want := "systemctl daemon-reload\nsystemctl stop tomcat\nwork\nsystemctl start tomcat\n"; string(got) != want {
			t.Errorf("work ok=%v: ran %q, want %q", c.ok, got, want)
		}
		if (err == nil) != c.ok {
			t.Errorf("work ok=%v: restart error %v", c.ok, err)
		}
	}
}

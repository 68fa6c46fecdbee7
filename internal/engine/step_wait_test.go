package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWaitForSucceedsOnceConditionHolds(t *testing.T) {
	h, _ := newTestHost("h1")
	dir := t.TempDir()
	flag := filepath.Join(dir, "ready")
	go func() {
		time.Sleep(1500 * time.Millisecond)
		os.WriteFile(flag, nil, 0o644)
	}()
	rc, _ := converge(t, h, Options{StateDir: filepath.Join(dir, "state")},
		WaitFor{Label: "wait ready", Condition: "test -e " + Quote(flag), Timeout: 20 * time.Second})
	if rc.Failed() || rc.Hosts[0].OK != 1 || rc.Hosts[0].Changed != 0 {
		t.Fatalf("waiting must end ok and change nothing: %+v", rc.Hosts[0])
	}
}

func TestWaitForFailsAfterTimeoutWithHint(t *testing.T) {
	h, _ := newTestHost("h1")
	rc, _ := converge(t, h, Options{StateDir: t.TempDir()},
		WaitFor{Label: "wait never", Condition: "false", Timeout: 2 * time.Second, Hint: "see the log"})
	err := rc.Hosts[0].Err
	if err == nil || !strings.Contains(err.Error(), "not ready after 2s") || !strings.Contains(err.Error(), "see the log") {
		t.Fatalf("want a timeout error with the hint, got %v", err)
	}
}

// A condition that is slow to fail (a Tomcat that accepts connections and
// then stalls) must not stretch the timeout: it is wall-clock, so with 2 s
// and 1 s tries the wait ends after about 3 s. Counting tries instead
// (three tries and two pauses) takes 5 s.
func TestWaitForTimeoutIsWallClock(t *testing.T) {
	h, _ := newTestHost("h1")
	t0 := time.Now()
	rc, _ := converge(t, h, Options{StateDir: t.TempDir()},
		WaitFor{Label: "wait slow", Condition: "sleep 1; false", Timeout: 2 * time.Second})
	took := time.Since(t0)
	if err := rc.Hosts[0].Err; err == nil || !strings.Contains(err.Error(), "not ready after 2s") {
		t.Fatalf("want a timeout error, got %v", err)
	}
	if took > 4500*time.Millisecond {
		t.Fatalf("a 2s wait with 1s tries took %s", took)
	}
}

// A condition that never returns is cut off by the call's own deadline,
// with the same timeout error.
func TestWaitForCutsOffAHangingCondition(t *testing.T) {
	defer func(g time.Duration) { waitGrace = g }(waitGrace)
	waitGrace = time.Second
	h, _ := newTestHost("h1")
	t0 := time.Now()
	rc, _ := converge(t, h, Options{StateDir: t.TempDir()},
		WaitFor{Label: "wait hung", Condition: "sleep 30", Timeout: time.Second, Hint: "see the log"})
	took := time.Since(t0)
	err := rc.Hosts[0].Err
	if err == nil || !strings.Contains(err.Error(), "not ready after 1s") || !strings.Contains(err.Error(), "see the log") {
		t.Fatalf("want a timeout error with the hint, got %v", err)
	}
	if took > 10*time.Second {
		t.Fatalf("a 1s wait on a hung condition took %s", took)
	}
}

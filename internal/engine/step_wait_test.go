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

package hostlock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// conn is a host whose "SSH connection" is a sleep process of the test:
// killing it is the run being killed. The lock lives in the test's own
// directory, not in /run.
func conn(t *testing.T, dir string) (*enginetest.LocalConn, *exec.Cmd) {
	t.Helper()
	owner := exec.Command("sleep", "60")
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Process.Kill(); owner.Wait() })
	c := &enginetest.LocalConn{Name: "t58", Env: []string{"PATH=" + os.Getenv("PATH"), "LOCK_OWNER=sleep", "LOCK_FROM=" + strconv.Itoa(owner.Process.Pid)}}
	return c, owner
}

// The script with its paths moved into dir.
func inDir(t *testing.T, dir string) func() {
	l, u := lockScript, unlockScript
	lockScript = strings.ReplaceAll(lockScript, "/run/lock", dir)
	unlockScript = strings.ReplaceAll(unlockScript, "/run/lock", dir)
	return func() { lockScript, unlockScript = l, u }
}

func TestLockStates(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) is not installed here")
	}
	dir := t.TempDir()
	defer inDir(t, dir)()
	ctx := context.Background()
	a, ownerA := conn(t, dir)
	b, _ := conn(t, dir)

	// Free: A takes it.
	if out, err := Lock(ctx, []remote.Conn{a}, Me("clusterctl apply"), false); err != nil || out[0].TookStale != "" {
		t.Fatalf("free lock: %v %+v", err, out)
	}
	holder, _ := os.ReadFile(filepath.Join(dir, "clusterctl", "holder"))
	if !strings.Contains(string(holder), `running "clusterctl apply" since`) {
		t.Fatalf("holder record: %q", holder)
	}
	// Held by a live run: B is refused, told who holds it.
	_, err := Lock(ctx, []remote.Conn{b}, Me("clusterctl teardown"), false)
	var held *HeldError
	if !errors.As(err, &held) || !strings.Contains(held.Error(), `running "clusterctl apply"`) || !strings.Contains(held.Error(), "--force-unlock") {
		t.Fatalf("held lock: %v", err)
	}
	// A's run is killed: its lock is stale and B takes it over, saying so.
	ownerA.Process.Kill()
	ownerA.Wait()
	out, err := Lock(ctx, []remote.Conn{b}, Me("clusterctl teardown"), false)
	if err != nil || !strings.Contains(out[0].TookStale, `"clusterctl apply"`) {
		t.Fatalf("stale lock: %v %+v", err, out)
	}
	// A third run with --force-unlock takes a live lock.
	c, _ := conn(t, dir)
	if _, err := Lock(ctx, []remote.Conn{c}, Me("clusterctl restart"), true); err != nil {
		t.Fatalf("forced: %v", err)
	}
	// B's unlock leaves C's lock alone; C's frees it.
	Unlock(ctx, []remote.Conn{b})
	if _, err := os.Stat(filepath.Join(dir, "clusterctl")); err != nil {
		t.Fatal("B's unlock removed the lock C holds")
	}
	Unlock(ctx, []remote.Conn{c})
	if _, err := os.Stat(filepath.Join(dir, "clusterctl")); !os.IsNotExist(err) {
		t.Fatalf("the lock is still there after its holder's unlock: %v", err)
	}
}

// A lock whose holder ran on this machine and is gone is taken over even
// while its SSH connection still looks alive to the host (a dropped link),
// and one held by a live process of this machine is not.
func TestLockOfAGoneLocalRunIsTakenOver(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) is not installed here")
	}
	dir := t.TempDir()
	defer inDir(t, dir)()
	ctx := context.Background()
	a, _ := conn(t, dir) // its "connection" stays alive throughout
	b, _ := conn(t, dir)
	gone := exec.Command("true")
	gone.Run()
	old := Me("clusterctl apply")
	old.PID = gone.Process.Pid // a clusterctl of this machine that exited
	if _, err := Lock(ctx, []remote.Conn{a}, old, false); err != nil {
		t.Fatal(err)
	}
	out, err := Lock(ctx, []remote.Conn{b}, Me("clusterctl apply"), false)
	if err != nil || !strings.Contains(out[0].TookStale, "clusterctl apply") {
		t.Fatalf("a gone local holder: %v %+v", err, out)
	}
	// Now held by this (live) test process: a third run is refused.
	c, _ := conn(t, dir)
	other := Me("clusterctl restart")
	other.PID = os.Getpid() + 1_000_000 // not us, so no self-takeover
	if _, err := Lock(ctx, []remote.Conn{c}, other, false); err == nil {
		t.Fatal("a live local holder was taken over")
	}
}

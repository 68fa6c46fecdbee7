package hostlock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// host is a host whose "SSH connection" is a sleep process of the test:
// killing it is the run being killed, replacing it is the transport
// redialling. The lock lives in the test's own directory, not in /run.
type host struct {
	*enginetest.LocalConn
	t     *testing.T
	mu    sync.Mutex
	owner *exec.Cmd
	// from, dir: the lock directory the scripts name, and this host's.
	from, dir string
}

func newHost(t *testing.T) *host {
	t.Helper()
	h := &host{LocalConn: &enginetest.LocalConn{Name: "t58", Env: []string{"LOCK_OWNER=sleep"}}, t: t}
	h.redial()
	return h
}

// The owner is read per command, as a redial is transparent to a Conn's
// callers: the next command simply runs under another sshd.
func (h *host) Run(ctx context.Context, cmd string) (remote.Result, error) {
	h.mu.Lock()
	pid := h.owner.Process.Pid
	h.mu.Unlock()
	if h.from != "" {
		cmd = strings.ReplaceAll(cmd, h.from, h.dir)
	}
	return h.LocalConn.Run(ctx, "LOCK_FROM="+strconv.Itoa(pid)+" "+cmd)
}

// withOwnDir gives h a lock directory of its own (a separate host), in
// place of the test's shared one, from.
func (h *host) withOwnDir(from string) *host {
	h.from, h.dir = filepath.Dir(from), h.t.TempDir()
	return h
}

// redial stands a new process in for the sshd and ends the old one, as
// the host sees a dropped connection replaced by a new one.
func (h *host) redial() {
	h.t.Helper()
	next := exec.Command("sleep", "60")
	if err := next.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { next.Process.Kill(); next.Wait() })
	h.mu.Lock()
	old := h.owner
	h.owner = next
	h.mu.Unlock()
	if old != nil {
		old.Process.Kill()
		old.Wait()
	}
}

// drop ends the connection for good: the run was killed.
func (h *host) drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.owner.Process.Kill()
	h.owner.Wait()
}

func (h *host) ownerPID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.owner.Process.Pid
}

// inDir moves the scripts' paths into a fresh directory and returns the
// lock directory.
func inDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) is not installed here")
	}
	dir := t.TempDir()
	l, r, u := lockScript, refreshScript, unlockScript
	lockScript = strings.ReplaceAll(lockScript, "/run/lock", dir)
	refreshScript = strings.ReplaceAll(refreshScript, "/run/lock", dir)
	unlockScript = strings.ReplaceAll(unlockScript, "/run/lock", dir)
	t.Cleanup(func() { lockScript, refreshScript, unlockScript = l, r, u })
	return filepath.Join(dir, "clusterctl")
}

// timing shortens the lease's intervals for one test.
func timing(t *testing.T, every, ttl time.Duration) {
	hb, tl := HeartbeatInterval, TTL
	HeartbeatInterval, TTL = every, ttl
	t.Cleanup(func() { HeartbeatInterval, TTL = hb, tl })
}

// age sets the heartbeat (the holder's mtime) to secs seconds ago.
func age(t *testing.T, lock string, secs int) {
	t.Helper()
	at := "@" + strconv.FormatInt(time.Now().Unix()-int64(secs), 10)
	if out, err := exec.Command("touch", "-d", at, filepath.Join(lock, "holder")).CombinedOutput(); err != nil {
		t.Fatalf("touch: %v: %s", err, out)
	}
}

// pause stops a lease's heartbeat and leaves its locks, as a run that
// hangs or was killed does.
func pause(l *Lease) {
	l.stop()
	l.beats.Wait()
}

func holderOf(t *testing.T, lock string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(lock, "holder"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustBeHeld(t *testing.T, c remote.Conn, what string) {
	t.Helper()
	_, err := Lock(context.Background(), []remote.Conn{c}, Me("clusterctl teardown"), false)
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("%s: a second run got %v, want a HeldError", what, err)
	}
}

func mustTakeStale(t *testing.T, c remote.Conn, what string) {
	t.Helper()
	out, err := Lock(context.Background(), []remote.Conn{c}, Me("clusterctl teardown"), false)
	if err != nil || out[0].TookStale == "" {
		t.Fatalf("%s: a second run got %v %+v, want a stale takeover", what, err, out)
	}
}

func TestLockStates(t *testing.T) {
	lock := inDir(t)
	ctx := context.Background()
	a, b := newHost(t), newHost(t)

	// Free: A takes it.
	if out, err := Lock(ctx, []remote.Conn{a}, Me("clusterctl apply"), false); err != nil || out[0].TookStale != "" {
		t.Fatalf("free lock: %v %+v", err, out)
	}
	if h := holderOf(t, lock); !strings.Contains(h, `running "clusterctl apply" since`) || !strings.Contains(h, "\nrun=") {
		t.Fatalf("holder record: %q", h)
	}
	// Held by a live run: B is refused, told who holds it, and only that.
	bMe := Me("clusterctl teardown")
	_, err := Lock(ctx, []remote.Conn{b}, bMe, false)
	var held *HeldError
	if !errors.As(err, &held) || !strings.Contains(held.Error(), `running "clusterctl apply"`) || !strings.Contains(held.Error(), "--force-unlock") || strings.Contains(held.Error(), "run=") {
		t.Fatalf("held lock: %v", err)
	}
	// A's run is killed and its heartbeat is past the grace: B takes it
	// over, saying so.
	a.drop()
	age(t, lock, 60)
	out, err := Lock(ctx, []remote.Conn{b}, bMe, false)
	if err != nil || !strings.Contains(out[0].TookStale, `"clusterctl apply"`) || strings.Contains(out[0].TookStale, "run=") {
		t.Fatalf("stale lock: %v %+v", err, out)
	}
	// A third run with --force-unlock takes a live lock.
	c, cMe := newHost(t), Me("clusterctl restart")
	if _, err := Lock(ctx, []remote.Conn{c}, cMe, true); err != nil {
		t.Fatalf("forced: %v", err)
	}
	// B's unlock leaves C's lock alone; C's frees it.
	Unlock(ctx, []remote.Conn{b}, bMe)
	if _, err := os.Stat(lock); err != nil {
		t.Fatal("B's unlock removed the lock C holds")
	}
	Unlock(ctx, []remote.Conn{c}, cMe)
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatalf("the lock is still there after its holder's unlock: %v", err)
	}
}

// A lock whose holder ran on this machine and is gone is taken over even
// while its SSH connection still looks alive to the host (a dropped link),
// and one held by a live process of this machine is not.
func TestLockOfAGoneLocalRunIsTakenOver(t *testing.T) {
	inDir(t)
	ctx := context.Background()
	a, b := newHost(t), newHost(t) // A's "connection" stays alive throughout
	old := Me("clusterctl apply")
	old.PID = exitedPID(t) // a clusterctl of this machine that exited
	if _, err := Lock(ctx, []remote.Conn{a}, old, false); err != nil {
		t.Fatal(err)
	}
	out, err := Lock(ctx, []remote.Conn{b}, Me("clusterctl apply"), false)
	if err != nil || !strings.Contains(out[0].TookStale, "clusterctl apply") {
		t.Fatalf("a gone local holder: %v %+v", err, out)
	}
	// Now held by this (live) test process: a third run is refused.
	other := Me("clusterctl restart")
	other.PID = os.Getpid() + 1_000_000 // not us, so no self-takeover
	if _, err := Lock(ctx, []remote.Conn{newHost(t)}, other, false); err == nil {
		t.Fatal("a live local holder was taken over")
	}
}

func exitedPID(t *testing.T) int {
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	return gone.Process.Pid
}

// (a) A lease whose connection was redialled names the new sshd at its
// next beat, and that live sshd keeps the lock, past the grace a dead one
// would get.
func TestLeaseSurvivesARedial(t *testing.T) {
	lock := inDir(t)
	timing(t, 50*time.Millisecond, 30*time.Second)
	a := newHost(t)
	l, err := Hold(context.Background(), []remote.Conn{a}, Me("clusterctl apply"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	a.redial()
	want := "sshd=" + strconv.Itoa(a.ownerPID()) + " "
	for deadline := time.Now().Add(time.Second); !strings.HasPrefix(holderOf(t, lock), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after a redial the record names %q, want the new sshd %s", holderOf(t, lock), want)
		}
	}
	pause(l)
	age(t, lock, 5) // past the grace (1 s here), within the TTL
	mustBeHeld(t, newHost(t), "a redialled lease")
}

// (b) A run that stopped beating with its connection gone keeps its lock
// for the grace (it may be redialling), and loses it after.
func TestLeaseWithoutHeartbeatIsTakenOver(t *testing.T) {
	lock := inDir(t)
	timing(t, time.Second, 30*time.Second) // grace 3 s
	a := newHost(t)
	l, err := Hold(context.Background(), []remote.Conn{a}, Me("clusterctl apply"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	pause(l)
	a.drop()
	mustBeHeld(t, newHost(t), "within the grace")
	age(t, lock, 4)
	mustTakeStale(t, newHost(t), "past the grace")
}

// (c) A live sshd does not keep a lock whose heartbeat is past the TTL:
// the run hangs, or its link died without the host noticing.
func TestLeaseWithLiveSSHDButOldHeartbeatIsTakenOver(t *testing.T) {
	lock := inDir(t)
	// Past the grace (3 heartbeats), well within the TTL: a slow machine
	// must not carry the age past it before the check.
	timing(t, time.Second, 9*time.Second)
	l, err := Hold(context.Background(), []remote.Conn{newHost(t)}, Me("clusterctl apply"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	pause(l)
	age(t, lock, 4)
	mustBeHeld(t, newHost(t), "within the TTL")
	age(t, lock, 10)
	mustTakeStale(t, newHost(t), "past the TTL")
}

// A record of an older version (no run id, no heartbeat) is judged by its
// sshd alone, however old, as that version expects.
func TestOldRecordIsJudgedBySSHDAlone(t *testing.T) {
	lock := inDir(t)
	a := newHost(t)
	rec := "sshd=" + strconv.Itoa(a.ownerPID()) + " start=" + startTime(t, a.ownerPID()) + " " + Me("clusterctl apply").String() + "\n"
	if err := os.MkdirAll(lock, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lock, "holder"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	age(t, lock, 3600)
	mustBeHeld(t, newHost(t), "an old record with its sshd")
	a.drop()
	mustTakeStale(t, newHost(t), "an old record without its sshd")
}

func startTime(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Skip("no /proc here")
	}
	return strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))[19]
}

// (d) A pid means something only in the machine and PID namespace it
// came from: a holder of another namespace is not gone because its pid is
// not here, nor is one whose record does not say.
func TestGoneHereOnlyInTheSameNamespace(t *testing.T) {
	me := Me("clusterctl apply")
	if me.PIDNS == "" || me.MachineID == "" {
		t.Skip("no PID namespace or machine id here")
	}
	them := me
	them.PID = exitedPID(t)
	line := them.record() + "\n"
	if !goneHere(line+them.meta(), me) {
		t.Fatal("a gone holder of this namespace is not judged gone")
	}
	for what, o := range map[string]Holder{
		"another PID namespace": {PIDNS: "pid:[4026532999]", MachineID: me.MachineID},
		"another machine":       {PIDNS: me.PIDNS, MachineID: "0123456789abcdef0123456789abcdef"},
		"no namespace recorded": {MachineID: me.MachineID},
	} {
		o.RunID = "0000000000000000"
		if goneHere(line+o.meta(), me) {
			t.Errorf("%s: judged gone by its pid", what)
		}
	}
	if goneHere(line, me) {
		t.Error("a record of an older version (no meta line) judged gone by its pid")
	}

	// And through Lock: the container's live lock stands.
	inDir(t)
	them.PIDNS = "pid:[4026532999]"
	if _, err := Lock(context.Background(), []remote.Conn{newHost(t)}, them, false); err != nil {
		t.Fatal(err)
	}
	mustBeHeld(t, newHost(t), "a holder of another PID namespace")
}

// (e) Unlock finds its lock by the run id: after a redial the recorded
// sshd is a dead one.
func TestUnlockAfterARedial(t *testing.T) {
	lock := inDir(t)
	a, me := newHost(t), Me("clusterctl apply")
	if _, err := Lock(context.Background(), []remote.Conn{a}, me, false); err != nil {
		t.Fatal(err)
	}
	a.redial()
	Unlock(context.Background(), []remote.Conn{a}, me)
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatalf("the lock is still there after an unlock over a redialled connection: %v", err)
	}
}

// (f) A lease whose lock another run forced reports it on Lost, stops
// beating there, and its Release leaves the other run's lock alone.
func TestLeaseForcedByAnotherRunIsLost(t *testing.T) {
	lock := inDir(t)
	timing(t, 50*time.Millisecond, 30*time.Second)
	ctx := context.Background()
	l, err := Hold(ctx, []remote.Conn{newHost(t)}, Me("clusterctl apply"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	if _, err := Lock(ctx, []remote.Conn{newHost(t)}, Me("clusterctl restart"), true); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-l.Lost():
		var lost *LostError
		if !errors.As(err, &lost) || lost.Host != "t58" || !strings.Contains(err.Error(), `running "clusterctl restart"`) {
			t.Fatalf("lost: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the lease never reported that another run took its lock")
	}
	l.Release(ctx)
	if _, open := <-l.Lost(); open {
		t.Error("Lost is still open after Release")
	}
	if h := holderOf(t, lock); !strings.Contains(h, `"clusterctl restart"`) {
		t.Fatalf("the lost lease rewrote or freed the other run's lock: %q", h)
	}
}

// Release stops the heartbeat before it unlocks: no beat brings the lock
// back.
func TestReleaseFreesForGood(t *testing.T) {
	lock := inDir(t)
	timing(t, 20*time.Millisecond, 30*time.Second)
	l, err := Hold(context.Background(), []remote.Conn{newHost(t)}, Me("clusterctl apply"), false)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a few beats
	l.Release(context.Background())
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatalf("the lock is there after Release: %v", err)
	}
	if _, open := <-l.Lost(); open {
		t.Error("a released lease reported a lost lock")
	}
}

// Check finds a removed lock at once, long before the next heartbeat,
// reports it on Lost once, and keeps saying so.
func TestCheckFindsARemovedLockAtOnce(t *testing.T) {
	lock := inDir(t)
	timing(t, time.Hour, 30*time.Second)
	ctx := context.Background()
	l, err := Hold(ctx, []remote.Conn{newHost(t)}, Me("clusterctl restart"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	if err := l.Check(ctx); err != nil {
		t.Fatalf("a held lock: %v", err)
	}
	if err := os.RemoveAll(lock); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		var lost *LostError
		if err := l.Check(ctx); !errors.As(err, &lost) || lost.Host != "t58" {
			t.Fatalf("check %d after the lock was removed: %v, want a LostError for t58", i+1, err)
		}
	}
	select {
	case <-l.Lost():
	default:
		t.Fatal("Check did not report the loss on Lost")
	}
	select {
	case err := <-l.Lost():
		t.Fatalf("a second report of one loss: %v", err)
	default:
	}
}

// Two runs racing for the same three hosts, again and again: each time
// exactly one takes every lock and the other takes none (it is told who
// holds the first host and never touches the others).
func TestTwoRunsRacingForOneClusterOneWinsWhole(t *testing.T) {
	lock := inDir(t)
	ctx := context.Background()
	var aConns, bConns []remote.Conn
	var dirs []string
	for range 3 {
		a := newHost(t).withOwnDir(lock)
		b := newHost(t)
		b.from, b.dir = a.from, a.dir // the same host, another run's connection
		aConns, bConns = append(aConns, a), append(bConns, b)
		dirs = append(dirs, a.dir)
	}
	aMe, bMe := Me("clusterctl apply"), Me("clusterctl restart tomcat")
	for round := range 30 {
		var wg sync.WaitGroup
		var aErr, bErr error
		wg.Go(func() { _, aErr = Lock(ctx, aConns, aMe, false) })
		wg.Go(func() { _, bErr = Lock(ctx, bConns, bMe, false) })
		wg.Wait()
		if (aErr == nil) == (bErr == nil) {
			t.Fatalf("round %d: apply %v, restart %v: want exactly one to win", round, aErr, bErr)
		}
		winner, conns, me := "clusterctl apply", aConns, aMe
		if bErr == nil {
			winner, conns, me = "clusterctl restart tomcat", bConns, bMe
		}
		for i, d := range dirs {
			if h := holderOf(t, filepath.Join(d, "clusterctl")); !strings.Contains(h, `"`+winner+`"`) {
				t.Fatalf("round %d: host %d held by %q, want the winner %q", round, i, h, winner)
			}
		}
		Unlock(ctx, conns, me)
	}
}

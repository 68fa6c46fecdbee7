// Package hostlock keeps two clusterctl runs from changing one cluster at
// once: a run that changes hosts (apply, restart, teardown, the verify
// drill) takes a lock on every host first, in inventory order, and a run
// that finds one held refuses, naming who holds it, from where, since when,
// with which command. k0sctl added the same after two concurrent runs
// corrupted clusters.
//
// The lock is a directory on the host (mkdir is atomic), taken under
// flock(1) so that two runs taking over a stale lock cannot both win. It
// records the host-side sshd process of the holder's SSH connection and a
// random id of the run.
//
// A run holds its locks as a lease (Hold): until Release, it rewrites each
// host's record every HeartbeatInterval over whatever connection the host
// has then, so the record names the sshd of the current connection even
// after the transport redialled, and the file's mtime is the heartbeat, on
// the host's own clock. A lock is live while its sshd runs and its
// heartbeat is younger than TTL, or, with its sshd gone, while the
// heartbeat is younger than three intervals (the run is redialling). Any
// other lock is stale: a killed run, a dropped link whose sshd lingers, a
// run that stopped beating; the next run takes it over with a notice. A
// beat that finds the lock in another run's hands (--force-unlock) reports
// it on Lost, so the run knows it no longer holds the host.
//
// A holder that ran on this machine, in this PID namespace, and whose
// process is gone is taken over at once: its sshd may linger for hours
// after a dropped link. The record says where its PID lives, because a
// hostname alone is shared by the containers of one machine.
//
// Records without a run id come from versions that did not beat: their
// sshd alone still says whether they run.
package hostlock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Dir is the lock on each host; /run is emptied at boot, so a reboot frees
// it too.
const Dir = "/run/lock/clusterctl"

// HeartbeatInterval is how often a lease rewrites its records, and TTL how
// old a heartbeat may get while its sshd runs. Variables so that tests can
// shorten them; a lease reads them when it is taken.
var (
	HeartbeatInterval = 3 * time.Second
	TTL               = 30 * time.Second
)

// Holder is who holds a lock, as recorded on the host.
type Holder struct {
	Command string // "clusterctl apply"
	Who     string // local user@machine
	PID     int    // of the clusterctl process
	Since   time.Time

	// RunID tells a run's own record from another's when the sshd no
	// longer can: after a redial the recorded sshd is a dead one.
	RunID string
	// PIDNS ("pid:[4026531836]") and MachineID (/etc/machine-id, "" if
	// unreadable) say where PID means something: a hostname alone is
	// shared by the containers of one machine.
	PIDNS     string
	MachineID string
}

func (h Holder) String() string {
	return fmt.Sprintf("%s (pid %d) running %q since %s", h.Who, h.PID, h.Command, h.Since.Format(time.RFC3339))
}

// record is the holder's first line on the host after the sshd: what a
// refused run is shown.
func (h Holder) record() string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(h.String())
}

// meta is the holder's second line: "run=ID ns=NS mid=MID". A second line
// because older versions read only the first, and so still show a
// record of ours as before.
func (h Holder) meta() string {
	return "run=" + token(h.RunID) + " ns=" + token(h.PIDNS) + " mid=" + token(h.MachineID)
}

// token keeps a value one shell word and one field of meta.
func token(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// metaFields reads a meta line back; missing fields are "".
func metaFields(line string) (run, ns, mid string) {
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "run":
			run = v
		case "ns":
			ns = v
		case "mid":
			mid = v
		}
	}
	return run, ns, mid
}

// HeldError is a lock another run holds.
type HeldError struct {
	Host   string
	Holder string // the holder's record, as the host has it
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is locked by another clusterctl run: %s; wait for it, or if you know it is gone, run again with --force-unlock", e.Host, e.Holder)
}

// LostError is a lock a lease held and no longer does: another run took it
// (--force-unlock, or this run's heartbeat stopped long enough for the
// lock to look stale), or it was removed.
type LostError struct {
	Host   string
	Holder string // the record of the run that has it now; "" if none does
}

func (e *LostError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("%s: this run lost its run lock: the lock was removed, another run may change the host now", e.Host)
	}
	return fmt.Sprintf("%s: this run lost its run lock to another clusterctl run: %s", e.Host, e.Holder)
}

// Me describes this process as a holder, with a new run id.
func Me(command string) Holder {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		who += "@" + h
	}
	h := Holder{Command: command, Who: who, PID: os.Getpid(), Since: time.Now().UTC(), RunID: newRunID()}
	h.PIDNS, _ = os.Readlink("/proc/self/ns/pid")
	if id, err := os.ReadFile("/etc/machine-id"); err == nil {
		h.MachineID = token(string(id))
	}
	return h
}

func newRunID() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// Outcome of a Lock on one host.
type Outcome struct {
	Host      string
	TookStale string // the record of a stale lock taken over, if one was
}

// The scripts share one guard: every read and write of the record happens
// under it, so a takeover, a heartbeat and an unlock never interleave.
const guard = `d=` + Dir + `
mkdir -p /run/lock && exec 9>/run/lock/clusterctl.guard && flock -w 10 9 || { echo "cannot take /run/lock/clusterctl.guard"; exit 4; }
`

// owner sets $me to this connection's sshd: the first ancestor named sshd
// (sshd-session since OpenSSH 9.8), with its start time, so that a pid
// reused by another process does not pass for it. LOCK_OWNER and
// LOCK_FROM let a test stand a process of its own in for it.
const owner = `p=${LOCK_FROM:-$PPID}
while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm 2>/dev/null)" in ${LOCK_OWNER:-sshd|sshd-session}) break;; esac; p=$(cut -d' ' -f4 /proc/$p/stat); done
me="sshd=$p start=$(cut -d' ' -f22 /proc/$p/stat)"
`

// write replaces the record with $me, record $1 and meta $2; the rename
// gives the file a new mtime, which is the heartbeat.
const write = `mkdir -p "$d" && printf '%s %s\n%s\n' "$me" "$1" "$2" > "$d/holder.new" && mv "$d/holder.new" "$d/holder"`

// lockScript takes the lock for record $1 and meta $2 unless a live run
// holds it (exit 3, its record and meta on stdout). FORCE=1 takes any
// lock. TTL and GRACE are in seconds; the age is the host's own clock
// against the host's own mtime, so the client's clock does not matter.
var lockScript = guard + owner + `if [ -e "$d/holder" ]; then
  { read -r hp hs rest; read -r meta; } < "$d/holder"
  age=$(( $(date +%s) - $(stat -c %Y "$d/holder" 2>/dev/null || echo 0) ))
  live=0
  if [ -d "/proc/${hp#sshd=}" ] && [ "start=$(cut -d' ' -f22 /proc/${hp#sshd=}/stat 2>/dev/null)" = "$hs" ]; then
    case "$meta" in run=*) [ "$age" -lt "$TTL" ] && live=1;; *) live=1;; esac
  else
    case "$meta" in run=*) [ "$age" -lt "$GRACE" ] && live=1;; esac
  fi
  if [ "$FORCE" != 1 ] && [ $live = 1 ]; then printf '%s\n%s\n' "$rest" "$meta"; exit 3; fi
  echo "stale $rest"
fi
` + write

// refreshScript is a heartbeat: it rewrites the record of run $2 with this
// connection's sshd, or says who has the lock now (exit 3), or that none
// does (exit 5). It never takes a lock that is not the run's any more.
var refreshScript = guard + owner + `[ -e "$d/holder" ] || exit 5
{ read -r hp hs rest; read -r meta; } < "$d/holder"
[ "${meta%% *}" = "${2%% *}" ] || { echo "$rest"; exit 3; }
` + write

// unlockScript frees the lock if run $1 ("run=ID") holds it. The run id,
// not the sshd: after a redial the recorded sshd may be a dead one.
var unlockScript = guard + `[ -e "$d/holder" ] || exit 0
{ read -r hp hs rest; read -r meta; } < "$d/holder"
[ "${meta%% *}" = "$1" ] && rm -rf "$d"; exit 0`

// seconds rounds up: the script compares whole seconds.
func seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Lock takes the lock on every conn and stops when another run holds one
// (releasing what it took), so two runs racing for the same cluster cannot
// each take half of it: the first conn is taken alone, and the two runs
// meet there, the one that loses taking nothing more; the others are
// then taken at once. force takes over any lock. Nothing refreshes these
// locks: they go stale after TTL. A run that holds them longer takes them
// with Hold.
func Lock(ctx context.Context, conns []remote.Conn, me Holder, force bool) ([]Outcome, error) {
	if me.RunID == "" {
		return nil, errors.New("hostlock: a holder without a run id (make it with Me)")
	}
	if len(conns) == 0 {
		return nil, nil
	}
	ctx = probe.Bookkeeping(ctx)
	first, err := takeOne(ctx, conns[0], me, force)
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, len(conns))
	errs := make([]error, len(conns))
	out[0] = first
	var wg sync.WaitGroup
	for i, c := range conns[1:] {
		wg.Go(func() { out[i+1], errs[i+1] = takeOne(ctx, c, me, force) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		Unlock(context.WithoutCancel(ctx), conns, me) // frees only this run's
		return nil, err
	}
	return out, nil
}

// takeOne takes the lock on c, or says who holds it.
func takeOne(ctx context.Context, c remote.Conn, me Holder, force bool) (Outcome, error) {
	cmd := fmt.Sprintf("FORCE=0 TTL=%d GRACE=%d sh -c %s lock %s %s", seconds(TTL), seconds(3*HeartbeatInterval),
		remote.ShellQuote(lockScript), remote.ShellQuote(me.record()), remote.ShellQuote(me.meta()))
	if force {
		cmd = strings.Replace(cmd, "FORCE=0", "FORCE=1", 1)
	}
	res, err := c.Run(ctx, cmd)
	if err == nil && res.ExitCode == 3 && goneHere(res.Stdout, me) {
		// The holder ran on this machine and is gone, but its lock
		// still looks alive to the host (a dropped link: sshd does
		// not notice a client that vanished; or a killed run within
		// its grace): take over.
		held, _, _ := strings.Cut(strings.TrimSpace(res.Stdout), "\n")
		res, err = c.Run(ctx, strings.Replace(cmd, "FORCE=0", "FORCE=1", 1))
		if err == nil && res.OK() {
			res.Stdout = "stale " + held
		}
	}
	if err == nil && res.ExitCode == 3 {
		held, _, _ := strings.Cut(strings.TrimSpace(res.Stdout), "\n")
		err = &HeldError{Host: c.Host(), Holder: held}
	} else if err == nil && !res.OK() {
		err = fmt.Errorf("%s: take the run lock: exit %d: %s", c.Host(), res.ExitCode, strings.TrimSpace(res.Stdout+res.Stderr))
	}
	if err != nil {
		return Outcome{}, err
	}
	o := Outcome{Host: c.Host()}
	if s, ok := strings.CutPrefix(strings.TrimSpace(res.Stdout), "stale "); ok {
		o.TookStale = s
	}
	return o, nil
}

var holderRE = regexp.MustCompile(`^(\S+) \(pid (\d+)\) running `)

// goneHere: the lock's holder (record and meta lines, as the lock script
// prints them) is a clusterctl run of this user on this machine, in this
// PID namespace, whose process no longer exists. A record that does not
// say where its pid lives (an older version, a machine without /proc) is
// left to the host's rule.
func goneHere(held string, me Holder) bool {
	rec, meta, _ := strings.Cut(strings.TrimSpace(held), "\n")
	m := holderRE.FindStringSubmatch(rec)
	if m == nil || m[1] != me.Who {
		return false
	}
	_, ns, mid := metaFields(meta)
	if me.PIDNS == "" || me.MachineID == "" || ns != me.PIDNS || mid != me.MachineID {
		return false
	}
	pid, _ := strconv.Atoi(m[2])
	if pid <= 0 || pid == me.PID {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	// Only "no such process" is gone; EPERM is a process that runs.
	err = p.Signal(syscall.Signal(0))
	return errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH)
}

// Unlock frees the locks run me holds; a lock another run took over (a
// --force-unlock) is left alone.
func Unlock(ctx context.Context, conns []remote.Conn, me Holder) {
	ctx = probe.Bookkeeping(ctx)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			c.Run(ctx, "sh -c "+remote.ShellQuote(unlockScript)+" unlock "+remote.ShellQuote("run="+token(me.RunID)))
		})
	}
	wg.Wait()
}

// Lease is the locks of one run, kept fresh until Release.
type Lease struct {
	conns    []remote.Conn
	me       Holder
	outcomes []Outcome
	lost     chan error
	stop     context.CancelFunc
	beats    sync.WaitGroup
	release  sync.Once

	mu       sync.Mutex
	gone     map[string]bool // hosts whose loss was reported on lost
	released bool
}

// Hold takes the locks as Lock does and keeps them with a heartbeat per
// host until Release. The heartbeat outlives ctx: a cancelled run still
// holds its hosts while it winds down, until it releases them.
func Hold(ctx context.Context, conns []remote.Conn, me Holder, force bool) (*Lease, error) {
	out, err := Lock(ctx, conns, me, force)
	if err != nil {
		return nil, err
	}
	bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &Lease{conns: append([]remote.Conn(nil), conns...), me: me, outcomes: out, lost: make(chan error, len(conns)), stop: stop, gone: map[string]bool{}}
	every := HeartbeatInterval
	for _, c := range l.conns {
		l.beats.Add(1)
		go l.beat(bctx, c, every)
	}
	return l, nil
}

// Outcomes says, per host, whether a stale lock was taken over.
func (l *Lease) Outcomes() []Outcome { return l.outcomes }

// Lost receives a *LostError for each host whose lock the run lost; that
// host's heartbeat stops. Release closes it.
func (l *Lease) Lost() <-chan error { return l.lost }

// Release stops the heartbeats, then frees the locks the run still holds.
// Later calls do nothing.
func (l *Lease) Release(ctx context.Context) {
	l.release.Do(func() {
		l.stop()
		// No beat may rewrite a record after the unlock removed it.
		l.beats.Wait()
		l.mu.Lock()
		l.released = true
		close(l.lost)
		l.mu.Unlock()
		Unlock(ctx, l.conns, l.me)
	})
}

func (l *Lease) beat(ctx context.Context, c remote.Conn, every time.Duration) {
	defer l.beats.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Other failures (a redial that failed, a busy host) are what TTL
		// and the grace allow for; if they last, the lock goes stale and
		// the first beat that gets through finds it lost.
		var lost *LostError
		if err := refresh(ctx, c, l.me); errors.As(err, &lost) {
			l.lose(c.Host(), lost)
			return
		}
	}
}

// lose reports one host's loss on lost, once, and never after Release.
func (l *Lease) lose(host string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released || l.gone[host] {
		return
	}
	l.gone[host] = true
	l.lost <- err
}

// Check refreshes every lock now and returns the ones the run no longer
// holds (each also reported on Lost). A heartbeat finds a removed or
// taken-over lock only within an interval; a rollout calls Check before
// each turn, so a run never drains or restarts a host after another run
// took it over. A refresh that fails for another reason (a link being
// redialled) is not a loss: the heartbeat and TTL cover it.
func (l *Lease) Check(ctx context.Context) error {
	// Hosts are asked at once: order matters when locks are taken (two
	// runs must meet at the same first host), not when they are checked.
	errs := make([]error, len(l.conns))
	var wg sync.WaitGroup
	for i, c := range l.conns {
		l.mu.Lock()
		gone := l.gone[c.Host()]
		l.mu.Unlock()
		if gone {
			errs[i] = &LostError{Host: c.Host()}
			continue
		}
		wg.Go(func() {
			var lost *LostError
			if err := refresh(ctx, c, l.me); errors.As(err, &lost) {
				l.lose(c.Host(), lost)
				errs[i] = lost
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// refresh is one heartbeat on c.
func refresh(ctx context.Context, c remote.Conn, me Holder) error {
	res, err := c.Run(probe.Bookkeeping(ctx), "sh -c "+remote.ShellQuote(refreshScript)+" refresh "+remote.ShellQuote(me.record())+" "+remote.ShellQuote(me.meta()))
	switch {
	case err != nil:
		return err
	case res.ExitCode == 3:
		return &LostError{Host: c.Host(), Holder: strings.TrimSpace(res.Stdout)}
	case res.ExitCode == 5:
		return &LostError{Host: c.Host()}
	case !res.OK():
		return fmt.Errorf("%s: refresh the run lock: exit %d: %s", c.Host(), res.ExitCode, strings.TrimSpace(res.Stdout+res.Stderr))
	}
	return nil
}

// Package hostlock keeps two clusterctl runs from changing one cluster at
// once: a run that changes hosts (apply, restart, teardown, the verify
// drill) takes a lock on every host first, in inventory order, and a run
// that finds one held refuses, naming who holds it, from where, since when,
// with which command. k0sctl added the same after two concurrent runs
// corrupted clusters.
//
// The lock is a directory on the host (mkdir is atomic), taken under
// flock(1) so that two runs taking over a stale lock cannot both win. It
// records the host-side sshd process of the holder's SSH connection: when
// that process is gone (the run was killed, its connection dropped) the
// lock is stale, and the next run takes it over with a notice.
package hostlock

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Dir is the lock on each host; /run is emptied at boot, so a reboot frees
// it too.
const Dir = "/run/lock/clusterctl"

// Holder is who holds a lock, as recorded on the host.
type Holder struct {
	Command string // "clusterctl apply"
	Who     string // local user@machine
	PID     int    // of the clusterctl process
	Since   time.Time
}

func (h Holder) String() string {
	return fmt.Sprintf("%s (pid %d) running %q since %s", h.Who, h.PID, h.Command, h.Since.Format(time.RFC3339))
}

// HeldError is a lock another run holds.
type HeldError struct {
	Host   string
	Holder string // the holder's record, as the host has it
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is locked by another clusterctl run: %s; wait for it, or if you know it is gone, run again with --force-unlock", e.Host, e.Holder)
}

// Me describes this process as a holder.
func Me(command string) Holder {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		who += "@" + h
	}
	return Holder{Command: command, Who: who, PID: os.Getpid(), Since: time.Now().UTC()}
}

// Outcome of a Lock on one host.
type Outcome struct {
	Host      string
	TookStale string // the record of a stale lock taken over, if one was
}

// lockScript takes the lock for holder line $1 unless a live run holds it
// (exit 3, its record on stdout). "live" is: the sshd process recorded is
// still there with the start time recorded (a pid reused by another
// process does not count). FORCE=1 takes any lock. The owner is the first
// ancestor named sshd (sshd-session since OpenSSH 9.8): the process of
// this run's SSH connection; LOCK_OWNER and LOCK_FROM let a test stand a
// process of its own in for it.
var lockScript = `d=` + Dir + `
mkdir -p /run/lock && exec 9>/run/lock/clusterctl.guard && flock -w 10 9 || { echo "cannot take /run/lock/clusterctl.guard"; exit 4; }
p=${LOCK_FROM:-$PPID}
while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm 2>/dev/null)" in ${LOCK_OWNER:-sshd|sshd-session}) break;; esac; p=$(cut -d' ' -f4 /proc/$p/stat); done
me="sshd=$p start=$(cut -d' ' -f22 /proc/$p/stat)"
if [ -e "$d/holder" ]; then
  read -r hp hs rest < "$d/holder"
  if [ "$FORCE" != 1 ] && [ -d "/proc/${hp#sshd=}" ] && [ "start=$(cut -d' ' -f22 /proc/${hp#sshd=}/stat 2>/dev/null)" = "$hs" ]; then
    echo "$rest"; exit 3
  fi
  echo "stale $rest"
fi
mkdir -p "$d" && printf '%s %s\n' "$me" "$1" > "$d/holder.new" && mv "$d/holder.new" "$d/holder"`

// unlockScript frees the lock if this connection holds it.
var unlockScript = `d=` + Dir + `
exec 9>/run/lock/clusterctl.guard && flock -w 10 9 || exit 4
p=${LOCK_FROM:-$PPID}
while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm 2>/dev/null)" in ${LOCK_OWNER:-sshd|sshd-session}) break;; esac; p=$(cut -d' ' -f4 /proc/$p/stat); done
read -r hp hs rest < "$d/holder" 2>/dev/null || exit 0
[ "$hp" = "sshd=$p" ] && rm -rf "$d"; exit 0`

// Lock takes the lock on every conn, in order, and stops at the first one
// another run holds (releasing what it took), so two runs racing for the
// same cluster cannot each take half of it. force takes over any lock.
func Lock(ctx context.Context, conns []remote.Conn, me Holder, force bool) ([]Outcome, error) {
	rec := strings.NewReplacer("\n", " ", "\r", " ").Replace(me.String())
	var out []Outcome
	for i, c := range conns {
		cmd := "FORCE=0 sh -c " + remote.ShellQuote(lockScript) + " lock " + remote.ShellQuote(rec)
		if force {
			cmd = strings.Replace(cmd, "FORCE=0", "FORCE=1", 1)
		}
		res, err := c.Run(ctx, cmd)
		if err == nil && res.ExitCode == 3 && goneHere(strings.TrimSpace(res.Stdout), me) {
			// The holder ran on this machine and is gone, but its SSH
			// connection still looks alive to the host (a dropped link:
			// sshd does not notice a client that vanished): take over.
			held := strings.TrimSpace(res.Stdout)
			res, err = c.Run(ctx, strings.Replace(cmd, "FORCE=0", "FORCE=1", 1))
			if err == nil && res.OK() {
				res.Stdout = "stale " + held
			}
		}
		if err == nil && res.ExitCode == 3 {
			err = &HeldError{Host: c.Host(), Holder: strings.TrimSpace(res.Stdout)}
		} else if err == nil && !res.OK() {
			err = fmt.Errorf("%s: take the run lock: exit %d: %s", c.Host(), res.ExitCode, strings.TrimSpace(res.Stdout+res.Stderr))
		}
		if err != nil {
			Unlock(context.WithoutCancel(ctx), conns[:i])
			return nil, err
		}
		o := Outcome{Host: c.Host()}
		if s, ok := strings.CutPrefix(strings.TrimSpace(res.Stdout), "stale "); ok {
			o.TookStale = s
		}
		out = append(out, o)
	}
	return out, nil
}

var holderRE = regexp.MustCompile(`^(\S+) \(pid (\d+)\) running `)

// goneHere: the lock's holder is a clusterctl run of this user on this
// machine whose process no longer exists.
func goneHere(record string, me Holder) bool {
	m := holderRE.FindStringSubmatch(record)
	if m == nil || m[1] != me.Who {
		return false
	}
	pid, _ := strconv.Atoi(m[2])
	if pid <= 0 || pid == me.PID {
		return false
	}
	p, err := os.FindProcess(pid)
	return err != nil || p.Signal(syscall.Signal(0)) != nil
}

// Unlock frees the locks this run holds; a lock another run took over (a
// --force-unlock) is left alone.
func Unlock(ctx context.Context, conns []remote.Conn) {
	for _, c := range conns {
		c.Run(ctx, "sh -c "+remote.ShellQuote(unlockScript))
	}
}

// Package enginetest gives tests outside the engine a real remote.Conn that
// runs on this machine (commands through `sh -c`, files as real files under
// a temp dir), and stub system tools (dpkg-query, apt-get, systemctl,
// getent, useradd, userdel, groupdel, hostname, hostnamectl, timedatectl)
// backed by a state dir, so that apply and teardown run whole cycles
// through the shell without root, a package manager or systemd.
package enginetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// LocalConn is a remote.Conn on this machine. Env is added to every
// command's environment (PATH with the stubs first, STATE=...).
type LocalConn struct {
	Name string
	Env  []string

	mu     sync.Mutex
	cmds   []string
	writes []string // paths given to WriteFile, to prove a dry run wrote nothing
}

func (c *LocalConn) Host() string { return c.Name }
func (c *LocalConn) Close() error { return nil }

// Commands returns the commands run so far, to count round trips.
func (c *LocalConn) Commands() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.cmds...)
}

func (c *LocalConn) Run(ctx context.Context, cmd string) (remote.Result, error) {
	c.mu.Lock()
	c.cmds = append(c.cmds, cmd)
	c.mu.Unlock()
	sh := exec.CommandContext(ctx, "sh", "-c", cmd)
	sh.Env = append(os.Environ(), c.Env...)
	var out, errb bytes.Buffer
	sh.Stdout, sh.Stderr = &out, &errb
	err := sh.Run()
	res := remote.Result{Stdout: out.String(), Stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
		return res, nil
	}
	return res, err
}

func (c *LocalConn) ReadFile(_ context.Context, path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// Writes returns the paths written so far through WriteFile or Upload.
func (c *LocalConn) Writes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

// WriteFile writes atomically, like the SSH transport, and sets the owner
// when one is given (only tests running as root give one).
func (c *LocalConn) WriteFile(_ context.Context, path string, data []byte, meta remote.FileMeta) error {
	c.mu.Lock()
	c.writes = append(c.writes, path)
	c.mu.Unlock()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".local-conn-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	mode := meta.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	if meta.Owner != "" || meta.Group != "" {
		if out, err := exec.Command("chown", meta.Owner+":"+meta.Group, tmp.Name()).CombinedOutput(); err != nil {
			return fmt.Errorf("chown: %v: %s", err, out)
		}
	}
	return os.Rename(tmp.Name(), path)
}

func (c *LocalConn) Upload(ctx context.Context, local, path string, meta remote.FileMeta) (bool, error) {
	data, err := os.ReadFile(local)
	if err != nil {
		return false, err
	}
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		// Same content: like the transport, only fix a wrong mode.
		st, err := os.Stat(path)
		if err != nil || meta.Mode == 0 || st.Mode().Perm() == meta.Mode.Perm() {
			return false, err
		}
		return true, os.Chmod(path, meta.Mode)
	}
	return true, c.WriteFile(ctx, path, data, meta)
}

// stubs are the fake tools. State: pkg/<name> installed packages,
// active/<unit> and enabled/<unit>, users/<name> (a passwd line),
// groups/<name>, hostname, timezone, fw/{permanent,runtime}/ (one file per
// firewalld rule), ufw (present = active), ufw-rules, selinux (present =
// enabled), sebool/<name> (on/off).
// Every state-changing call is logged.
var stubs = map[string]string{
	"dpkg-query": `if [ -z "$3" ]; then for f in "$STATE"/pkg/*; do [ -e "$f" ] && echo "install ok installed ${f##*/}"; done; exit 0; fi
[ -e "$STATE/pkg/$3" ] && printf 'install ok installed' && exit 0; exit 1`,
	// apt-get install also installs what $STATE/deps/<pkg> lists, and a
	// package's user from $STATE/pkguser/<pkg>, as real postinsts do.
	// apt-get -s purge: what would go (the names, and the installed
	// packages $STATE/rdeps/<name> lists as depending on them); changes and
	// logs nothing.
	"apt-get": `case " $* " in *" -s "*) for a in "$@"; do case "$a" in -*|purge|remove) ;; *)
  echo "Purg $a"; [ -e "$STATE/rdeps/$a" ] && for r in $(cat "$STATE/rdeps/$a"); do [ -e "$STATE/pkg/$r" ] && echo "Purg $r"; done;; esac; done; exit 0;; esac
echo "apt-get $*" >> "$STATE/log"
verb=; for a in "$@"; do case "$a" in update|install|remove|purge) verb=$a;; esac; done
[ "$verb" = update ] && exit 0
for a in "$@"; do case "$a" in -*|update|install|remove|purge|DPkg*) ;; *)
  if [ "$verb" = install ]; then touch "$STATE/pkg/$a"
    [ -e "$STATE/deps/$a" ] && for d in $(cat "$STATE/deps/$a"); do touch "$STATE/pkg/$d"; done
    [ -e "$STATE/pkguser/$a" ] && u=$(cat "$STATE/pkguser/$a") && echo "$u:x:998:998::/nonexistent:/usr/sbin/nologin" > "$STATE/users/$u" && touch "$STATE/groups/$u"
  else rm -f "$STATE/pkg/$a"; fi;; esac; done
exit 0`,
	"find": `exit 0`,
	"systemctl": `echo "systemctl $*" >> "$STATE/log"
case "$1" in
is-active) if [ "$2" = --quiet ]; then [ -e "$STATE/active/$3" ]; exit; fi
  [ -e "$STATE/active/$2" ] && { echo active; exit 0; }; echo inactive; exit 3;;
is-enabled) [ -e "$STATE/enabled/$2" ] && { echo enabled; exit 0; }; echo disabled; exit 1;;
enable) if [ "$2" = --now ]; then touch "$STATE/enabled/$3" "$STATE/active/$3"; else touch "$STATE/enabled/$2"; fi;;
disable) if [ "$2" = --now ]; then rm -f "$STATE/enabled/$3" "$STATE/active/$3"; else rm -f "$STATE/enabled/$2"; fi;;
start|restart) touch "$STATE/active/$2";;
stop) rm -f "$STATE/active/$2";;
esac`,
	"getent": `db=$1; [ "$db" = passwd ] && d=users || d=groups
if [ -z "$2" ]; then for f in "$STATE/$d"/*; do [ -e "$f" ] || continue; if [ $d = users ]; then cat "$f"; else echo "${f##*/}:x:1:"; fi; done; exit 0; fi
[ -e "$STATE/$d/$2" ] || exit 2; [ $d = users ] && cat "$STATE/$d/$2" || echo "$2:x:1:"`,
	"useradd": `echo "useradd $*" >> "$STATE/log"; for a; do n="$a"; done; echo "$n:x:999:999::/home/$n:/bin/sh" > "$STATE/users/$n"; touch "$STATE/groups/$n"`,
	// usermod [-d HOME] [-s SHELL] NAME rewrites fields 6 and 7 of the passwd line.
	"usermod": `echo "usermod $*" >> "$STATE/log"; h=; sh=
while [ $# -gt 1 ]; do case "$1" in -d) h=$2; shift 2;; -s) sh=$2; shift 2;; *) shift;; esac; done
f="$STATE/users/$1"; [ -e "$f" ] || exit 6
IFS=: read -r n x u g c oh os < "$f"; echo "$n:$x:$u:$g:$c:${h:-$oh}:${sh:-$os}" > "$f"`,
	"userdel":     `echo "userdel $*" >> "$STATE/log"; for a; do n="$a"; done; rm -f "$STATE/users/$n" "$STATE/groups/$n"`,
	"groupdel":    `echo "groupdel $*" >> "$STATE/log"; rm -f "$STATE/groups/$1"`,
	"hostname":    `if [ -n "$1" ]; then echo "hostname $*" >> "$STATE/log"; echo "$1" > "$STATE/hostname"; else cat "$STATE/hostname"; fi`,
	"hostnamectl": `echo "hostnamectl $*" >> "$STATE/log"; for a; do n="$a"; done; echo "$n" > "$STATE/hostname"; echo "$n" > "$HOSTNAME_FILE"`,
	// firewall-cmd [--permanent] --add-X=V | --remove-X=V | --query-X=V
	"firewall-cmd": `c=runtime; [ "$1" = --permanent ] && { c=permanent; shift; }
op=${1#--}; verb=${op%%-*}; rule=${op#*-}; f="$STATE/fw/$c/$(printf %s "$rule" | md5sum | cut -c1-16)"
mkdir -p "$STATE/fw/$c"
case $verb in add) echo "firewall-cmd $c $rule" >> "$STATE/log"; printf '%s\n' "$rule" > "$f";; remove) echo "firewall-cmd $c remove $rule" >> "$STATE/log"; rm -f "$f";; query) [ -e "$f" ];; *) exit 2;; esac`,
	// ufw status | show added | [delete] allow ...: rules are lines of
	// $STATE/ufw-rules; $STATE/ufw present = active.
	"ufw": `r="$STATE/ufw-rules"; touch "$r"
case "$1" in
status) [ -e "$STATE/ufw" ] && echo "Status: active" || echo "Status: inactive";;
show) echo "Added user rules (see 'ufw status' for running firewall):"; cat "$r";;
delete) shift; echo "ufw delete $*" >> "$STATE/log"; grep -vxF "ufw $*" "$r" > "$r.new"; mv "$r.new" "$r";;
allow|deny) echo "ufw $*" >> "$STATE/log"; grep -qxF "ufw $*" "$r" || echo "ufw $*" >> "$r";;
*) exit 1;;
esac`,
	// firewall-offline-cmd edits the permanent configuration only.
	"firewall-offline-cmd": `exec firewall-cmd --permanent "$@"`,
	"selinuxenabled":       `[ -e "$STATE/selinux" ]`,
	"getsebool":            `echo "$1 --> $(cat "$STATE/sebool/$1" 2>/dev/null || echo off)"`,
	"setsebool":            `echo "setsebool $*" >> "$STATE/log"; mkdir -p "$STATE/sebool"; echo "$3" > "$STATE/sebool/$2"`,
	"timedatectl":          `case "$1" in show) cat "$STATE/timezone";; set-timezone) echo "timedatectl $*" >> "$STATE/log"; echo "$2" > "$STATE/timezone";; esac`,
}

// Stubs installs the stub tools and returns their state dir; the returned
// env (PATH first, STATE, HOSTNAME_FILE=hostnameFile) goes into
// LocalConn.Env.
func Stubs(t testing.TB, hostnameFile string) (state string, env []string) {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"pkg", "active", "enabled", "users", "groups", "deps", "pkguser"} {
		if err := os.Mkdir(filepath.Join(state, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return state, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "STATE=" + state, "HOSTNAME_FILE=" + hostnameFile}
}

// Fingerprint lists every path under dir with its type, mode and content
// hash (symlinks with their target), so a tree can be compared
// byte-for-byte before and after.
func Fingerprint(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		l := p + " " + info.Mode().String()
		switch {
		case info.Mode().Type() == os.ModeSymlink:
			target, _ := os.Readlink(p)
			l += " -> " + target
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			l += " " + hex.EncodeToString(sum[:])
		}
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

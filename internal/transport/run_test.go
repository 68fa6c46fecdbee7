package transport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/sshtest"
)

func TestSudoWrap(t *testing.T) {
	got := sudoWrap(`echo 'a b' "$HOME" > /etc/x`)
	want := `sudo -n sh -c 'echo '\''a b'\'' "$HOME" > /etc/x'`
	if got != want {
		t.Fatalf("sudoWrap = %q, want %q", got, want)
	}
	// Run the wrapper with a stand-in sudo: sh must get the command intact.
	line := strings.Replace(got, "sudo -n ", "", 1)
	out, err := exec.Command("/bin/sh", "-c", strings.Replace(line, "> /etc/x", "", 1)).Output()
	if err != nil || !strings.HasPrefix(string(out), "a b /") {
		t.Fatalf("unwrapped output %q, %v", out, err)
	}
}

func TestNonRootRunsThroughSudo(t *testing.T) {
	fakeSudo(t, `exec "$@"`)
	f := newFixture(t)
	f.cfg.User = "deploy"
	c := dialT(t, f.cfg)
	if !c.Sudo() {
		t.Fatal("Sudo() = false for user deploy")
	}
	res, err := c.Run(ctxT(t), "echo 'it works'; exit 3")
	if err != nil || res.ExitCode != 3 || res.Stdout != "it works\n" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	cmds := f.srv.Commands()
	if len(cmds) < 2 {
		t.Fatalf("commands = %q", cmds)
	}
	for _, cmd := range cmds {
		if !strings.HasPrefix(cmd, "sudo -n sh -c '") {
			t.Errorf("command not wrapped in sudo -n: %q", cmd)
		}
	}
	if want := sudoWrap("echo 'it works'; exit 3"); cmds[len(cmds)-1] != want {
		t.Errorf("last command %q, want %q", cmds[len(cmds)-1], want)
	}
	if u := f.srv.Users(); u[0] != "deploy" {
		t.Errorf("logged in as %v", u)
	}
}

func TestSudoNeedingPasswordIsAClearError(t *testing.T) {
	fakeSudo(t, `echo "sudo: a password is required" >&2; exit 1`)
	f := newFixture(t)
	f.cfg.User = "deploy"
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: user deploy needs passwordless sudo on host t58")
}

// A command's output and exit status are read without waiting for the
// server's answer to the exec request, which costs a round trip per
// command: against a server that never sends that answer, Run still ends.
func TestRunDoesNotWaitForTheExecReply(t *testing.T) {
	f := newFixture(t, sshtest.WithExecRepliesWithheld())
	c := dialT(t, f.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Run(ctx, "echo out; echo err >&2; exit 7")
	if err != nil || res.Stdout != "out\n" || res.Stderr != "err\n" || res.ExitCode != 7 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
}

// A command killed by a signal reports 128+n, as a shell would.
func TestACommandKilledBySignalExitsWith128PlusN(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	for sig, want := range map[string]int{"TERM": 143, "KILL": 137, "HUP": 129} {
		res, err := c.Run(ctxT(t), "echo before; kill -"+sig+" $$")
		if err != nil || res.ExitCode != want || res.Stdout != "before\n" {
			t.Errorf("SIG%s: Run = %+v, %v; want exit %d", sig, res, err, want)
		}
	}
}

// passwordSudo puts a sudo on PATH that wants -k, -S and an empty -p, and the
// password pw as the first line of stdin, as sudo -S does; a wrong one is
// refused with sudo's own messages.
func passwordSudo(t *testing.T, pw string) {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
[ "$1 $2 $3 $4" = "-k -S -p " ] || { echo "fake sudo: want -k -S -p '', got $*" >&2; exit 99; }
shift 4
IFS= read -r line
if [ "$line" != '` + pw + `' ]; then echo "Sorry, try again." >&2; echo "sudo: 1 incorrect password attempt" >&2; exit 1; fi
exec "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// A user whose sudo asks for a password: the password from
// ssh.sudo_password_env goes to sudo on stdin, never onto a command line,
// and the command itself reads nothing of it.
func TestSudoWithAPasswordFromTheEnvironment(t *testing.T) {
	const pw = "s3cret-pw"
	passwordSudo(t, pw)
	t.Setenv("E2E_SUDO_PW", pw)
	f := newFixture(t)
	f.cfg.User, f.cfg.SudoPasswordEnv = "deploy", "E2E_SUDO_PW"
	c := dialT(t, f.cfg)
	res, err := c.Run(ctxT(t), "echo as root; cat; exit 4")
	if err != nil || res.Stdout != "as root\n" || res.ExitCode != 4 {
		t.Fatalf("Run = %+v, %v (cat must read nothing: the password is sudo's alone)", res, err)
	}
	if err := c.WriteFile(ctxT(t), filepath.Join(t.TempDir(), "f"), []byte("x"), remote.FileMeta{Mode: 0o644}); err != nil {
		t.Fatalf("a write through sudo: %v", err)
	}
	for _, cmd := range f.srv.Commands() {
		if strings.Contains(cmd, pw) {
			t.Fatalf("the password is on a command line: %q", cmd)
		}
		if !strings.HasPrefix(cmd, "sudo -k -S -p '' sh -c ") && !strings.HasPrefix(cmd, "mv ") {
			t.Errorf("a command not run through sudo -S: %q", cmd)
		}
	}

	// A wrong password: refused at Dial, naming the variable, not the value.
	t.Setenv("E2E_SUDO_PW", "wrong-pw-value")
	_, err = Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: user deploy: sudo on host t58 refused the password in $E2E_SUDO_PW")
	if strings.Contains(err.Error(), "wrong-pw-value") {
		t.Fatalf("the password is in the error: %v", err)
	}
	// Named but empty: refused before any command.
	t.Setenv("E2E_SUDO_PW", "")
	_, err = Dial(ctxT(t), f.cfg)
	wantErr(t, err, "ssh.sudo_password_env names $E2E_SUDO_PW, which is empty")
}

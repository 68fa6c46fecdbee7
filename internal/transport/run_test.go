package transport

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

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

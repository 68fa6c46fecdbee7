package probe_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// shConn runs commands with the local sh, as sshd would run them, and
// counts them: each is one session channel on a real host.
type shConn struct {
	runs int
}

func (c *shConn) Host() string { return "local" }
func (c *shConn) Close() error { return nil }
func (c *shConn) Run(ctx context.Context, cmd string) (remote.Result, error) {
	c.runs++
	sh := exec.CommandContext(ctx, "sh", "-c", cmd)
	var out, errb bytes.Buffer
	sh.Stdout, sh.Stderr = &out, &errb
	err := sh.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = nil
	}
	return remote.Result{Stdout: out.String(), Stderr: errb.String(), ExitCode: sh.ProcessState.ExitCode()}, err
}
func (c *shConn) ReadFile(context.Context, string) ([]byte, bool, error) { return nil, false, nil }
func (c *shConn) WriteFile(_ context.Context, path string, data []byte, _ remote.FileMeta) error {
	return os.WriteFile(path, data, 0o644)
}
func (c *shConn) Upload(context.Context, string, string, remote.FileMeta) (bool, error) {
	return false, nil
}

var ro = probe.ReadOnly(context.Background())

// Every command's result read from one batch is the result of running it
// alone: output with no final newline, NUL bytes and lines that look like
// the batch's own headers, stderr, exit codes, a command that reads stdin,
// one that ends in a comment, one that calls exit, and a megabyte.
func TestBatchIsTheSameAsOneByOne(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("a\x00b\nclusterctl-probe 1 0 0 0\n\n' o 1 0\n' e 1\nno newline"), 0o644)
	cmds := []string{
		"cat " + filepath.Join(dir, "f"),
		"echo out; echo err >&2; false",
		"cat; echo read-stdin",
		"echo x # a comment",
		"exit 3",
		"head -c 1048576 /dev/zero | tr '\\0' y",
		"test -e " + filepath.Join(dir, "absent"),
		"printf ''",
	}
	want := make([]remote.Result, len(cmds))
	direct := &shConn{}
	for i, cmd := range cmds {
		want[i], _ = direct.Run(context.Background(), "( "+cmd+"\n) </dev/null")
	}
	under := &shConn{}
	c := probe.Wrap(under)
	if err := c.Prefetch(ro, cmds); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		got, err := c.Run(ro, cmd)
		if err != nil {
			t.Fatal(err)
		}
		if got.ExitCode != want[i].ExitCode || got.Stdout != want[i].Stdout || got.Stderr != want[i].Stderr {
			t.Errorf("%q from the batch = %+.80v, alone = %+.80v", cmd, got, want[i])
		}
	}
	if under.runs != 1 {
		t.Errorf("%d commands on the host for %d reads, want 1", under.runs, len(cmds))
	}
	if s := c.Stats(); s.Served != len(cmds) || s.Missed != 0 || s.Batches != 1 {
		t.Errorf("stats %+v", s)
	}
}

// A Run that may change the host drops every result not yet served, so
// the read after it sees the host as it is now.
func TestAChangeDropsTheBatch(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, []byte("old"), 0o644)
	read := "cat " + f
	for name, change := range map[string]func(c *probe.Conn) error{
		"run": func(c *probe.Conn) error {
			_, err := c.Run(context.Background(), "echo new > "+f)
			return err
		},
		"write file": func(c *probe.Conn) error {
			return c.WriteFile(context.Background(), f, []byte("new\n"), remote.FileMeta{})
		},
	} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(f, []byte("old"), 0o644)
			c := probe.Wrap(&shConn{})
			if err := c.Prefetch(ro, []string{read}); err != nil {
				t.Fatal(err)
			}
			if err := change(c); err != nil {
				t.Fatal(err)
			}
			got, _ := c.Run(ro, read)
			if got.Stdout != "new\n" {
				t.Fatalf("read after the change = %q, want the new content", got.Stdout)
			}
			if s := c.Stats(); s.Served != 0 || s.Dropped != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// A result serves read-only Runs only, as many as declared it; the next
// read goes to the host (a poll must see time pass).
func TestServedOnlyToReadsAndOnlyAsOftenAsDeclared(t *testing.T) {
	f := filepath.Join(t.TempDir(), "n")
	os.WriteFile(f, []byte("1"), 0o644)
	under := &shConn{}
	c := probe.Wrap(under)
	read := "cat " + f
	if err := c.Prefetch(ro, []string{read, read}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(f, []byte("2"), 0o644) // changed behind the batch's back
	for i, want := range []string{"1", "1", "2"} {
		if got, _ := c.Run(ro, read); got.Stdout != want {
			t.Errorf("read %d = %q, want %q", i+1, got.Stdout, want)
		}
	}
	// An unmarked Run of a batched command is not a read: it runs.
	if err := c.Prefetch(ro, []string{read}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(f, []byte("3"), 0o644)
	if got, _ := c.Run(context.Background(), read); got.Stdout != "3" {
		t.Errorf("unmarked Run = %q, want the live answer 3", got.Stdout)
	}
	if s := c.Stats(); s.Served != 2 || s.Missed != 1 || s.Batches != 2 {
		t.Errorf("stats %+v", s)
	}
}

// A batch the host cannot run leaves nothing cached; reads run one by one.
func TestFailedBatchCachesNothing(t *testing.T) {
	c := probe.Wrap(&shConn{})
	const b = "BOUNDARY"
	_, err := probe.Parse("abc\nBOUNDARY o 0 0\nerr", 1, b)
	if err == nil || !strings.Contains(err.Error(), "stderr cut short") {
		t.Fatalf("Parse of a cut output: %v", err)
	}
	if _, err := probe.Parse("hello\n", 1, b); err == nil {
		t.Fatal("Parse took output with no boundary")
	}
	if _, err := probe.Parse("\nOTHER o 0 0\n\nOTHER e 0\n", 1, b); err == nil {
		t.Fatal("Parse took another batch's boundary")
	}
	if err := c.Prefetch(ro, []string{"echo a"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Run(ro, "echo a"); got.Stdout != "a\n" {
		t.Fatalf("got %q", got.Stdout)
	}
}

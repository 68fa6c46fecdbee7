package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// localConn is a real remote.Conn for tests: commands run through `sh -c`
// on this machine and files are real files (tests point them into
// t.TempDir()). It records what it did so tests can prove that nothing was
// written (dry-run) or that a command ran.
type localConn struct {
	name string
	env  []string // extra environment, e.g. PATH with stub tools first

	mu     sync.Mutex
	cmds   []string
	writes []string // paths given to WriteFile / Upload
}

func newLocalConn(name string) *localConn { return &localConn{name: name} }

func (c *localConn) Host() string { return c.name }

func (c *localConn) Run(ctx context.Context, cmd string) (remote.Result, error) {
	c.mu.Lock()
	c.cmds = append(c.cmds, cmd)
	c.mu.Unlock()
	sh := exec.CommandContext(ctx, "sh", "-c", cmd)
	sh.Env = append(os.Environ(), c.env...)
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
	case err != nil:
		return res, err
	}
	return res, nil
}

func (c *localConn) ReadFile(ctx context.Context, path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (c *localConn) WriteFile(ctx context.Context, path string, data []byte, meta remote.FileMeta) error {
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
		if res, err := c.Run(ctx, "chown "+Quote(meta.Owner+":"+meta.Group)+" "+Quote(tmp.Name())); err != nil || !res.OK() {
			return errors.Join(err, res.ExitError("chown"))
		}
	}
	return os.Rename(tmp.Name(), path)
}

func (c *localConn) Upload(ctx context.Context, local, path string, meta remote.FileMeta) (bool, error) {
	data, err := os.ReadFile(local)
	if err != nil {
		return false, err
	}
	if cur, err := os.ReadFile(path); err == nil && sha256.Sum256(cur) == sha256.Sum256(data) {
		if meta.Mode == 0 {
			return false, nil
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() == meta.Mode.Perm() {
			return false, err
		}
		return true, os.Chmod(path, meta.Mode)
	}
	return true, c.WriteFile(ctx, path, data, meta)
}

func (c *localConn) Close() error { return nil }

func (c *localConn) ranCommands() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.cmds...)
}

func (c *localConn) wrote() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

// debianFacts are preset so tests do not depend on this machine's OS.
var debianFacts = Facts{ID: "debian", VersionID: "12", Major: 12, Family: FamilyDebian, PackageManager: PkgApt}

func newTestHost(name string) (*Host, *localConn) {
	c := newLocalConn(name)
	h := NewHost(c, nil)
	h.Facts = debianFacts
	return h, c
}

// converge runs one play with the given steps on h and returns the recap
// and the events.
func converge(t *testing.T, h *Host, opts Options, steps ...Step) (Recap, []Event) {
	t.Helper()
	if opts.StateDir == "" { // never the machine's own /var/lib/clusterctl
		opts.StateDir = filepath.Join(t.TempDir(), "state")
	}
	var col Collector
	rc := Run(context.Background(), []*Host{h}, []Play{{Name: "test", Steps: steps}}, opts, &col)
	return rc, col.Events()
}

// stepEvents filters the step and handler results.
func stepEvents(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Type == EventStep || e.Type == EventHandler {
			out = append(out, e)
		}
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshot returns every file under dir with its content and mode, to
// prove a dry-run touched nothing.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var sb strings.Builder
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		sb.WriteString(p + " " + info.Mode().String())
		if info.Mode().Type() == os.ModeSymlink {
			target, _ := os.Readlink(p)
			sb.WriteString(" -> " + target)
		} else if info.Mode().IsRegular() {
			f, _ := os.Open(p)
			sum := sha256.New()
			io.Copy(sum, f)
			f.Close()
			sb.WriteString(" " + strconv.Quote(string(sum.Sum(nil))))
		}
		sb.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

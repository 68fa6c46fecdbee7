package engine

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
)

// localConn is a real remote.Conn for tests (enginetest.LocalConn):
// commands run through `sh -c` on this machine and files are real files
// (tests point them into t.TempDir()). It records what it did so tests can
// prove that nothing was written (dry-run) or that a command ran.
type localConn = enginetest.LocalConn

func newLocalConn(name string) *localConn { return &enginetest.LocalConn{Name: name} }

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

package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func TestFileCreateThenIdempotent(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	p := filepath.Join(dir, "app.conf")
	step := File{Path: p, Content: []byte("a=1\n"), Meta: remote.FileMeta{Mode: 0o640}}

	rc, evs := converge(t, h, Options{Diff: true}, step)
	if rc.Hosts[0].Changed != 1 {
		t.Fatalf("first run: %+v", rc.Hosts[0])
	}
	if got := readFile(t, p); got != "a=1\n" {
		t.Fatalf("content %q", got)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", st.Mode())
	}
	ev := stepEvents(evs)[0]
	if !strings.Contains(ev.Diff, "--- /dev/null\n+++ b"+p+"\n@@ -0,0 +1 @@\n+a=1\n") {
		t.Fatalf("diff of a new file:\n%s", ev.Diff)
	}

	rc, _ = converge(t, h, Options{Diff: true}, step)
	if h := rc.Hosts[0]; h.Changed != 0 || h.OK != 1 {
		t.Fatalf("second run should be all ok: %+v", h)
	}
}

func TestFileDiffAndModeDrift(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	p := filepath.Join(dir, "hosts")
	writeFile(t, p, "127.0.0.1 localhost\n10.0.0.1 old\n")

	_, evs := converge(t, h, Options{Diff: true}, File{Path: p, Content: []byte("127.0.0.1 localhost\n10.0.0.1 new\n"), Meta: remote.FileMeta{Mode: 0o600}})
	ev := stepEvents(evs)[0]
	wantDiff := "--- a" + p + "\n+++ b" + p + "\n@@ -1,2 +1,2 @@\n 127.0.0.1 localhost\n-10.0.0.1 old\n+10.0.0.1 new\n"
	if ev.Status != StatusChanged || ev.Diff != wantDiff {
		t.Fatalf("status %s diff\n%s\nwant\n%s", ev.Status, ev.Diff, wantDiff)
	}
	if ev.Summary != "update "+p+" (+1 -1 lines); mode 0644 -> 0600" {
		t.Fatalf("summary %q", ev.Summary)
	}

	// Only the mode drifts: fixed by chmod, content untouched.
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	_, evs = converge(t, h, Options{Diff: true}, File{Path: p, Content: []byte("127.0.0.1 localhost\n10.0.0.1 new\n"), Meta: remote.FileMeta{Mode: 0o600}})
	if ev := stepEvents(evs)[0]; ev.Summary != "mode 0644 -> 0600" || ev.Diff != "" {
		t.Fatalf("meta-only change: %+v", ev)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

// An atomic replace makes a new inode; the mode of the old file must carry
// over when the step does not set one.
func TestFileKeepsExistingModeWhenUnset(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	p := filepath.Join(dir, "secret.conf")
	writeFile(t, p, "old\n")
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	converge(t, h, Options{}, File{Path: p, Content: []byte("new\n")})
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 || readFile(t, p) != "new\n" {
		t.Fatalf("mode %v content %q", st.Mode(), readFile(t, p))
	}
}

func TestFileValidateRejectsBadContentAndKeepsOld(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	p := filepath.Join(dir, "nginx.conf")
	writeFile(t, p, "good\n")
	// The "validator" accepts files that contain the word good.
	validate := "grep -q good %s"

	rc, evs := converge(t, h, Options{}, File{Path: p, Content: []byte("broken\n"), Validate: validate, Backup: true})
	if !rc.Failed() || stepEvents(evs)[0].Status != StatusFailed {
		t.Fatalf("a file failing validation must fail the step: %+v", rc.Hosts[0])
	}
	if !strings.Contains(rc.Hosts[0].Err.Error(), "left unchanged") {
		t.Fatalf("error %v", rc.Hosts[0].Err)
	}
	if got := readFile(t, p); got != "good\n" {
		t.Fatalf("old file replaced: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp copy or backup left behind: %v", entries)
	}

	state := filepath.Join(t.TempDir(), "state")
	rc, _ = converge(t, h, Options{StateDir: state}, File{Path: p, Content: []byte("good too\n"), Validate: validate, Backup: true})
	if rc.Failed() || readFile(t, p) != "good too\n" {
		t.Fatalf("valid content not installed: %+v %q", rc.Hosts[0], readFile(t, p))
	}
	// The original is kept in the state dir, never next to the file.
	if got := readFile(t, BackupPath(state, p)); got != "good\n" {
		t.Fatalf("backup %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temp copy or backup left next to the file: %v", entries)
	}
}

func TestFileValidateNeedsPlaceholder(t *testing.T) {
	h, _ := newTestHost("h1")
	rc, _ := converge(t, h, Options{}, File{Path: filepath.Join(t.TempDir(), "x"), Content: []byte("x"), Validate: "nginx -t"})
	if !rc.Failed() {
		t.Fatalf("a Validate without a %%s placeholder must be rejected")
	}
}

func TestFileSensitiveNeverLeaks(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	p := filepath.Join(dir, "credentials")
	writeFile(t, p, "password=old-hunter2\n")
	const secret = "new-hunter2"

	_, evs := converge(t, h, Options{Diff: true}, File{Path: p, Content: []byte("password=" + secret + "\n"), Sensitive: true})
	_, dry := converge(t, h, Options{Diff: true, DryRun: true}, File{Path: p, Content: []byte("password=other-" + secret + "\n"), Sensitive: true})
	// A validator that prints the content must not leak it either.
	rc, failed := converge(t, h, Options{Diff: true}, File{Path: p, Content: []byte("password=bad-" + secret + "\n"), Sensitive: true, Validate: "cat %s >&2; false"})
	if !rc.Failed() {
		t.Fatal("validation should have failed")
	}
	for _, ev := range append(append(evs, dry...), failed...) {
		all := ev.Summary + ev.Diff + ev.Step
		if ev.Err != nil {
			all += ev.Err.Error()
		}
		if strings.Contains(all, "hunter2") {
			t.Fatalf("secret leaked in event %+v", ev)
		}
		if ev.Type == EventStep && ev.Status == StatusChanged && ev.Diff != HiddenDiff {
			t.Fatalf("diff of a sensitive file = %q, want %q", ev.Diff, HiddenDiff)
		}
	}
	if got := readFile(t, p); got != "password="+secret+"\n" {
		t.Fatalf("content %q", got)
	}
}

func TestFileRefusesDirectory(t *testing.T) {
	h, _ := newTestHost("h1")
	rc, _ := converge(t, h, Options{}, File{Path: t.TempDir(), Content: []byte("x")})
	if !rc.Failed() || !strings.Contains(rc.Hosts[0].Err.Error(), "not a regular file") {
		t.Fatalf("%+v", rc.Hosts[0])
	}
}

// The content read in the same round trip as the stat must be the file's
// bytes exactly: no newline added or lost, binary kept.
func TestFileCheckReadsExactBytesInOneRoundTrip(t *testing.T) {
	for name, content := range map[string]string{
		"no final newline": "a=1",
		"leading newline":  "\nx\n",
		"binary":           "\x00\xff\r\n\x00",
		"empty":            "",
	} {
		t.Run(name, func(t *testing.T) {
			h, c := newTestHost("h1")
			p := filepath.Join(t.TempDir(), "f")
			writeFile(t, p, content)
			os.Chmod(p, 0o644)
			before := len(c.Commands())
			rc, _ := converge(t, h, Options{StateDir: t.TempDir()}, File{Path: p, Content: []byte(content), Meta: remote.FileMeta{Mode: 0o644}})
			if rc.Hosts[0].Changed != 0 || rc.Failed() {
				t.Fatalf("identical content reported as a change: %+v", rc.Hosts[0])
			}
			var reads int
			for _, cmd := range c.Commands()[before:] {
				if strings.Contains(cmd, Quote(p)) {
					reads++
				}
			}
			if reads != 1 {
				t.Errorf("no-op file check took %d round trips on the file, want 1", reads)
			}
		})
	}
}

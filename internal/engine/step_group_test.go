package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A group changes only the members that differ, reports one result, and
// journals every member's records; once all hold, it is ok.
func TestGroupAppliesOnlyWhatDiffers(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	h, c := newTestHost("h1")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, nil, 0o644) // already in state
	member := func(p string) Step {
		return Command{Label: "touch " + filepath.Base(p), Cmd: "touch " + Quote(p), Unless: "test -e " + Quote(p),
			Undo: "rm " + Quote(p), UndoUnless: "test ! -e " + Quote(p)}
	}
	g := Group{Label: "files", Steps: []Step{member(a), member(b), When(func(*Host) bool { return false }, "n/a", member(filepath.Join(dir, "c")))}}

	rc, evs := converge(t, h, Options{StateDir: state}, g)
	if rc.Hosts[0].Changed != 1 || len(stepEvents(evs)) != 1 {
		t.Fatalf("first run: %+v", rc.Hosts[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); err == nil {
		t.Fatal("a skipped member ran")
	}
	recs, _, _ := ReadJournal(context.Background(), c, state)
	if len(recs) != 1 || recs[0].Undo != "rm "+Quote(b) {
		t.Fatalf("journal %+v, want only b's undo", recs)
	}
	if ev := stepEvents(evs)[0]; ev.Summary != "touch b" || ev.Step != "files" {
		t.Fatalf("event %+v", ev)
	}
	rc, _ = converge(t, h, Options{StateDir: state}, g)
	if rc.Hosts[0].Changed != 0 || rc.Hosts[0].OK != 1 {
		t.Fatalf("second run: %+v", rc.Hosts[0])
	}
}

func TestGroupStopsAtTheFirstFailure(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	after := filepath.Join(dir, "after")
	g := Group{Label: "two", Steps: []Step{
		Command{Label: "fails", Cmd: "exit 4", Unless: "false"},
		Command{Label: "after", Cmd: "touch " + Quote(after), Unless: "false"},
	}}
	rc, _ := converge(t, h, Options{}, g)
	if err := rc.Hosts[0].Err; err == nil || !strings.Contains(err.Error(), "fails: exit 4") {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(after); err == nil {
		t.Fatal("the member after a failure ran")
	}
}

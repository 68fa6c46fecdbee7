package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandGuards(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	marker := filepath.Join(dir, "installed")
	count := filepath.Join(dir, "count")
	run := "echo x >> " + Quote(count) + " && touch " + Quote(marker)

	creates := Command{Label: "install thing", Cmd: run, Creates: marker}
	for i := 0; i < 2; i++ {
		converge(t, h, Options{}, creates)
	}
	if got := readFile(t, count); got != "x\n" {
		t.Fatalf("Creates: ran %d times", strings.Count(got, "x"))
	}

	unless := Command{Label: "append once", Cmd: "echo y >> " + Quote(count), Unless: "grep -q y " + Quote(count)}
	rc1, _ := converge(t, h, Options{}, unless)
	rc2, _ := converge(t, h, Options{}, unless)
	if readFile(t, count) != "x\ny\n" || rc1.Hosts[0].Changed != 1 || rc2.Hosts[0].OK != 1 {
		t.Fatalf("Unless: %q %+v %+v", readFile(t, count), rc1.Hosts[0], rc2.Hosts[0])
	}
}

func TestCommandFailureNamesPurposeNotCommand(t *testing.T) {
	h, _ := newTestHost("h1")
	rc, evs := converge(t, h, Options{}, Command{Label: "set password", Cmd: "echo 'chpasswd s3cret' >&2; exit 3"})
	err := rc.Hosts[0].Err
	if err == nil || !strings.HasPrefix(err.Error(), "set password: exit 3") {
		t.Fatalf("err %v", err)
	}
	if ev := stepEvents(evs)[0]; ev.Step != "set password" {
		t.Fatalf("step title %q", ev.Step)
	}
	rc, _ = converge(t, h, Options{}, Command{Label: "set password", Cmd: "echo 'chpasswd s3cret' >&2; exit 3", Sensitive: true})
	if strings.Contains(rc.Hosts[0].Err.Error(), "s3cret") {
		t.Fatalf("sensitive command output leaked: %v", rc.Hosts[0].Err)
	}
}

// Undo is journalled only when the command really runs: a guard that holds
// from the start (the port was open before apply) leaves teardown nothing
// to reverse.
func TestCommandUndoJournalledOnlyWhenRun(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	h, c := newTestHost("h1")
	flag := filepath.Join(dir, "open")
	cmd := Command{Label: "open port", Cmd: "touch " + Quote(flag), Unless: "test -e " + Quote(flag),
		Undo: "rm " + Quote(flag), UndoUnless: "test ! -e " + Quote(flag)}
	converge(t, h, Options{StateDir: state}, cmd)
	converge(t, h, Options{StateDir: state}, cmd)
	recs, _, err := ReadJournal(context.Background(), c, state)
	if err != nil {
		t.Fatal(err)
	}
	var ran []Record
	for _, r := range recs {
		if r.Kind == RecordCommandRan {
			ran = append(ran, r)
		}
	}
	if len(ran) != 1 || ran[0].Name != "open port" || ran[0].Undo != cmd.Undo || ran[0].UndoUnless != cmd.UndoUnless {
		t.Fatalf("want one command_ran record carrying the undo, got %+v", ran)
	}

	other := filepath.Join(dir, "other")
	state2 := filepath.Join(dir, "state2")
	os.WriteFile(other, nil, 0o644)
	converge(t, h, Options{StateDir: state2}, Command{Label: "already", Cmd: "true", Unless: "test -e " + Quote(other), Undo: "rm " + Quote(other)})
	if recs, _, _ := ReadJournal(context.Background(), c, state2); len(recs) != 0 {
		t.Fatalf("a command that did not run left records: %+v", recs)
	}
}

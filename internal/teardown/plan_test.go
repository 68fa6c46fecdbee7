package teardown

import (
	"slices"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// A path's FIRST record says what the host had: a file apply created and
// later replaced is removed (not restored to apply's first version), and
// undo runs last-in first-out by first appearance.
func TestPlanFoldsTheJournal(t *testing.T) {
	recs := []engine.Record{
		{Kind: engine.RecordHostname, Previous: "pristine"},
		{Kind: engine.RecordDirCreated, Path: "/opt/app"},
		{Kind: engine.RecordFileCreated, Path: "/opt/app/a.conf", SHA256: "s1"},
		{Kind: engine.RecordServiceStarted, Name: "tomcat"},
		{Kind: engine.RecordFileReplaced, Path: "/opt/app/a.conf", SHA256: "s2", Backup: "/b/opt/app/a.conf"},
		{Kind: engine.RecordServiceEnabled, Name: "tomcat"},
		{Kind: engine.RecordHostname, Previous: "t58.example"}, // a later apply: not the original
		{Kind: engine.RecordPackageInstalled, Name: "nginx"},
		{Kind: engine.RecordPackageInstalled, Name: "nginx"},
	}
	p := NewPlan(recs)
	if len(p.Paths) != 2 || p.Paths[0].Path() != "/opt/app/a.conf" || p.Paths[1].Path() != "/opt/app" {
		t.Fatalf("paths %+v", p.Paths)
	}
	if p.Paths[0].First.Kind != engine.RecordFileCreated || !slices.Equal(p.Paths[0].Written, []string{"s1", "s2"}) {
		t.Fatalf("a.conf undo %+v", p.Paths[0])
	}
	if len(p.Services) != 1 || !p.Services[0].Stop || !p.Services[0].Disable {
		t.Fatalf("services %+v", p.Services)
	}
	if p.Hostname == nil || *p.Hostname != "pristine" || !slices.Equal(p.Packages, []string{"nginx"}) {
		t.Fatalf("hostname %v packages %v", p.Hostname, p.Packages)
	}
	if NewPlan(nil).Empty() != true || p.Empty() {
		t.Fatal("Empty")
	}
}

func TestRemovableRefusesSystemDirs(t *testing.T) {
	for _, p := range []string{"/", "/etc", "/usr/local", "relative", "/opt/../etc", ""} {
		if removable(p) == nil {
			t.Errorf("%q is removable", p)
		}
	}
	if err := removable("/usr/local/apache-tomcat-9.0.70"); err != nil {
		t.Error(err)
	}
}

// Commands with an undo are reversed newest first, once each, even when
// several applies journalled them.
func TestPlanCommandsNewestFirstOnce(t *testing.T) {
	recs := []engine.Record{
		{Kind: engine.RecordCommandRan, Name: "open 80/tcp", Undo: "close 80", UndoUnless: "closed 80"},
		{Kind: engine.RecordCommandRan, Name: "selinux", Undo: "bool off"},
		{Kind: engine.RecordCommandRan, Name: "open 80/tcp", Undo: "close 80", UndoUnless: "closed 80"},
	}
	p := NewPlan(recs)
	want := []CommandUndo{{Name: "selinux", Cmd: "bool off"}, {Name: "open 80/tcp", Cmd: "close 80", Unless: "closed 80"}}
	if !slices.Equal(p.Commands, want) || p.Empty() {
		t.Fatalf("commands %+v, want %+v", p.Commands, want)
	}
	steps := Steps(p, false, "stamp")
	if len(steps) != 2 || steps[0].Title() != "undo selinux" || steps[1].Title() != "undo open 80/tcp" {
		t.Fatalf("steps %v", steps)
	}
}

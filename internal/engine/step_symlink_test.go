package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	for _, d := range []string{"tomcat-9.0.70", "tomcat-9.0.71"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	link := filepath.Join(dir, "tomcat")
	step := Symlink{Path: link, Target: filepath.Join(dir, "tomcat-9.0.70")}
	converge(t, h, Options{}, step)
	rc, _ := converge(t, h, Options{}, step)
	if got, _ := os.Readlink(link); got != step.Target || rc.Hosts[0].Changed != 0 {
		t.Fatalf("link %q, second run %+v", got, rc.Hosts[0])
	}
	// Repointing a link to a directory must replace it, not nest a link inside.
	step.Target = filepath.Join(dir, "tomcat-9.0.71")
	rc, evs := converge(t, h, Options{}, step)
	if got, _ := os.Readlink(link); got != step.Target || rc.Hosts[0].Changed != 1 {
		t.Fatalf("link %q %+v", got, rc.Hosts[0])
	}
	if s := stepEvents(evs)[0].Summary; !strings.HasPrefix(s, "repoint") {
		t.Fatalf("summary %q", s)
	}
	if _, err := os.Lstat(filepath.Join(dir, "tomcat-9.0.70", "tomcat-9.0.71")); err == nil {
		t.Fatal("link created inside the old target")
	}
	// A real directory in the way is an error, never deleted.
	rc, _ = converge(t, h, Options{}, Symlink{Path: filepath.Join(dir, "tomcat-9.0.70"), Target: "x"})
	if !rc.Failed() {
		t.Fatal("want an error for a directory in the way")
	}
}

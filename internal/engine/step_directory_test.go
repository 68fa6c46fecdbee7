package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func TestDirectory(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	p := filepath.Join(dir, "opt", "tomcat", "logs")
	step := Directory{Path: p, Meta: remote.FileMeta{Mode: 0o750}}
	converge(t, h, Options{}, step)
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
		t.Fatalf("%v %v", st, err)
	}
	rc, _ := converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 0 {
		t.Fatalf("second run changed: %+v", rc.Hosts[0])
	}
	os.Chmod(p, 0o700)
	rc, evs := converge(t, h, Options{}, step)
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o750 || stepEvents(evs)[0].Summary != p+": mode 0700 -> 0750" || rc.Hosts[0].Changed != 1 {
		t.Fatalf("mode fix: %v %+v", st.Mode(), stepEvents(evs)[0])
	}
	f := filepath.Join(dir, "file")
	writeFile(t, f, "x")
	if rc, _ := converge(t, h, Options{}, Directory{Path: f}); !rc.Failed() {
		t.Fatal("a file in the way must be an error")
	}
}

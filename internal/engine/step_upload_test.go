package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func TestUpload(t *testing.T) {
	dir := t.TempDir()
	h, c := newTestHost("h1")
	local := filepath.Join(dir, "local.tar.gz")
	writeFile(t, local, "tarball v1")
	dst := filepath.Join(dir, "remote.tar.gz")
	step := Upload{Local: local, Path: dst, Meta: remote.FileMeta{Mode: 0o600}}

	rc, _ := converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 1 || readFile(t, dst) != "tarball v1" {
		t.Fatalf("%+v", rc.Hosts[0])
	}
	n := len(c.Writes())
	rc, _ = converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 0 || len(c.Writes()) != n {
		t.Fatalf("unchanged file re-sent: %+v", rc.Hosts[0])
	}
	writeFile(t, local, "tarball v2")
	rc, evs := converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 1 || readFile(t, dst) != "tarball v2" || !strings.Contains(stepEvents(evs)[0].Summary, "sha256") {
		t.Fatalf("%+v %+v", rc.Hosts[0], stepEvents(evs)[0])
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

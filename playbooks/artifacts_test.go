package playbooks

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// A Tomcat tarball that does not match its published SHA-512 fails the
// Tomcat hosts with a clear error and is never uploaded; the proxy, which
// has no Tomcat, is unaffected.
func TestTomcatChecksumMismatchFailsHost(t *testing.T) {
	inv := labArtifacts(t)
	tb := inv.ArtifactPath(inv.Tomcat.Tarball)
	os.WriteFile(tb+".sha512", []byte(strings.Repeat("0", 128)+" *x\n"), 0o644)
	conns, recap, col := applyToTolerant(t, inv, debian12)
	for _, h := range recap.Hosts {
		failed := h.Err != nil
		if want := h.Host != "proxy"; failed != want {
			t.Errorf("%s failed = %v (%v), want %v", h.Host, failed, h.Err, want)
		}
	}
	var msg string
	for _, e := range col.Events() {
		if e.Host == "t58" && e.Err != nil {
			msg = e.Err.Error()
		}
	}
	if !strings.Contains(msg, "does not match the published") || !strings.Contains(msg, "apache-tomcat-8.5.78.tar.gz") {
		t.Errorf("error: %q", msg)
	}
	for p := range conns["t58"].uploads {
		if strings.Contains(p, "apache-tomcat") {
			t.Errorf("corrupt tarball uploaded to %s", p)
		}
	}
}

// unpackedConn is a pristine host on which some directories exist.
type unpackedConn struct {
	*pristineConn
	dirs []string
}

func (c unpackedConn) Run(ctx context.Context, cmd string) (remote.Result, error) {
	for _, d := range c.dirs {
		if cmd == "test -d "+d {
			c.pristineConn.Run(ctx, cmd)
			return remote.Result{}, nil
		}
	}
	return c.pristineConn.Run(ctx, cmd)
}

// Once the versioned directory is unpacked, the tarball upload is skipped
// without hashing the tarball on the host (the no-op apply's main cost).
func TestUploadSkippedWhenUnpacked(t *testing.T) {
	inv := labArtifacts(t)
	c, err := NewCluster(inv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dirs       []string
		wantSkip   bool
		wantUpload bool
	}{
		{[]string{"/usr/local/jdk1.8.0_291", "/usr/local/apache-tomcat-8.5.78"}, true, false},
		{nil, false, true},
	} {
		pc := newPristine("t58")
		h := engine.NewHost(unpackedConn{pc, tc.dirs}, nil)
		h.Facts = engine.ParseOSRelease([]byte(debian12))
		col := &engine.Collector{}
		engine.Run(context.Background(), []*engine.Host{h}, []engine.Play{c.javaPlay(), c.tomcatPlay()}, engine.Options{}, col)
		for _, e := range col.Events() {
			if e.Type != engine.EventStep || !strings.HasPrefix(e.Step, "upload ") {
				continue
			}
			if skipped := e.Status == engine.StatusSkipped; skipped != tc.wantSkip {
				t.Errorf("dirs %v: %s: %s (%s)", tc.dirs, e.Step, e.Status, e.Summary)
			}
		}
		if got := len(pc.uploads) > 0; got != tc.wantUpload {
			t.Errorf("dirs %v: uploads %v", tc.dirs, pc.uploads)
		}
		if tc.wantSkip && len(pc.commands("sha256sum")) != 0 {
			t.Errorf("hashed a tarball on the host although it is unpacked")
		}
	}
}

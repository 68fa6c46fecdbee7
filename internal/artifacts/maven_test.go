package artifacts

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clusterctl/clusterctl/internal/artifacts/artifactstest"
)

// fakeRepo serves one jar in Maven layout on loopback, with a .sha1 that
// matches (or not), and counts jar downloads.
func fakeRepo(t *testing.T, c Coord, jar []byte, sha1Text string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/maven2/" + c.repoPath():
			gets.Add(1)
			w.Write(jar)
		case "/maven2/" + c.repoPath() + ".sha1":
			w.Write([]byte(sha1Text))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &gets
}

func sha1Hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

var spy = Coord{"net.spy", "spymemcached", "2.12.3"}

func TestResolverPrefersArtifactsDir(t *testing.T) {
	arts := t.TempDir()
	os.WriteFile(filepath.Join(arts, "spymemcached-2.12.3.jar"), []byte("local"), 0o644)
	srv, gets := fakeRepo(t, spy, []byte("remote"), sha1Hex([]byte("remote")))
	r := Resolver{ArtifactsDir: arts, CacheDir: t.TempDir(), Repo: srv.URL + "/maven2"}
	p, err := r.Resolve(context.Background(), spy)
	if err != nil || p != filepath.Join(arts, "spymemcached-2.12.3.jar") {
		t.Fatalf("Resolve = %q, %v", p, err)
	}
	if gets.Load() != 0 {
		t.Errorf("downloaded although the jar is in the artifacts dir")
	}
}

func TestResolverDownloadsOnceAndVerifies(t *testing.T) {
	jar := []byte("PK\x03\x04 a jar")
	// Maven Central's .sha1 files are sometimes "<hex>  <file name>".
	srv, gets := fakeRepo(t, spy, jar, sha1Hex(jar)+"  spymemcached-2.12.3.jar\n")
	cache := t.TempDir()
	r := Resolver{ArtifactsDir: t.TempDir(), CacheDir: cache, Repo: srv.URL + "/maven2/"}
	for i := 0; i < 2; i++ {
		p, err := r.Resolve(context.Background(), spy)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(cache, "net/spy/spymemcached/2.12.3/spymemcached-2.12.3.jar"); p != want {
			t.Fatalf("path %q, want %q", p, want)
		}
		if b, _ := os.ReadFile(p); string(b) != string(jar) {
			t.Fatalf("cached jar content %q", b)
		}
	}
	if gets.Load() != 1 {
		t.Errorf("jar downloaded %d times, want once", gets.Load())
	}
}

func TestResolverRejectsChecksumMismatch(t *testing.T) {
	srv, _ := fakeRepo(t, spy, []byte("tampered"), sha1Hex([]byte("original")))
	cache := t.TempDir()
	r := Resolver{ArtifactsDir: t.TempDir(), CacheDir: cache, Repo: srv.URL + "/maven2"}
	_, err := r.Resolve(context.Background(), spy)
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("err = %v, want a checksum mismatch", err)
	}
	// Nothing may be left in the cache for the next run to trust.
	left, _ := filepath.Glob(filepath.Join(cache, "net/spy/spymemcached/2.12.3/*"))
	if len(left) != 0 {
		t.Errorf("left in cache: %v", left)
	}
}

func TestResolverMissingEverywhere(t *testing.T) {
	srv, _ := fakeRepo(t, Coord{"x", "y", "1"}, nil, "")
	r := Resolver{ArtifactsDir: t.TempDir(), CacheDir: t.TempDir(), Repo: srv.URL + "/maven2"}
	_, err := r.Resolve(context.Background(), spy)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "net.spy:spymemcached:2.12.3") {
		t.Fatalf("err = %v", err)
	}
}

func TestTarTopDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "jdk-17-linux-x64.tar.gz")
	artifactstest.WriteTarGz(t, f, "jdk-17.0.15")
	if top, err := TopDir(f); err != nil || top != "jdk-17.0.15" {
		t.Fatalf("TopDir = %q, %v", top, err)
	}
	os.WriteFile(f, []byte("not gzip"), 0o644)
	if _, err := TopDir(f); err == nil {
		t.Fatal("no error for a file that is not a tarball")
	}
}

func TestWantSHA512(t *testing.T) {
	dir := t.TempDir()
	tb := filepath.Join(dir, "t.tar.gz")
	hexsum := strings.Repeat("ab", 64)
	os.WriteFile(tb+".sha512", []byte(strings.ToUpper(hexsum)+" *t.tar.gz\n"), 0o644)
	if got, err := WantSHA512("", tb); err != nil || got != hexsum {
		t.Errorf("from file: %q, %v", got, err)
	}
	if got, err := WantSHA512(strings.Repeat("cd", 64), tb); err != nil || got != strings.Repeat("cd", 64) {
		t.Errorf("inventory value wins: %q, %v", got, err)
	}
	if _, err := WantSHA512("abc", tb); err == nil {
		t.Error("short checksum accepted")
	}
	if _, err := WantSHA512("", filepath.Join(dir, "missing.tar.gz")); err == nil {
		t.Error("missing .sha512 accepted")
	}
}

// UnpackedSize counts the tarball's regular files, each in whole 4 KiB
// blocks: the one two-byte marker takes one block.
func TestUnpackedSize(t *testing.T) {
	f := filepath.Join(t.TempDir(), "apache-tomcat-9.0.70.tar.gz")
	artifactstest.WriteTarGz(t, f, "apache-tomcat-9.0.70")
	if n, err := UnpackedSize(f); err != nil || n != 4096 {
		t.Fatalf("UnpackedSize = %d, %v; want 4096", n, err)
	}
}

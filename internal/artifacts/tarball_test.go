package artifacts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/artifacts/artifactstest"
)

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

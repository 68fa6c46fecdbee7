package assets

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped sessioncheck.jar is what its source builds to: rebuilt with
// the javac it was built with, byte for byte. Another javac may emit other
// bytes, so the test then says so and stops.
func TestSessionCheckJarIsItsSource(t *testing.T) {
	if _, err := exec.LookPath("javac"); err != nil {
		t.Skip("SKIP: no javac to rebuild sessioncheck.jar (install a JDK to run this check)")
	}
	v, _ := exec.Command("javac", "-version").CombinedOutput()
	want, err := os.ReadFile("sessioncheck/sessioncheck.jar.javac")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(v)) != strings.TrimSpace(string(want)) {
		t.Skipf("SKIP: sessioncheck.jar was built with %s, this machine has %s: bytes may differ", strings.TrimSpace(string(want)), strings.TrimSpace(string(v)))
	}
	out := filepath.Join(t.TempDir(), "sessioncheck.jar")
	if b, err := exec.Command("../scripts/build-sessioncheck.sh", out).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, SessionCheckJar) {
		t.Error("assets/sessioncheck/sessioncheck.jar is not what SessionCheck.java builds to: run scripts/build-sessioncheck.sh and commit the jar")
	}
}

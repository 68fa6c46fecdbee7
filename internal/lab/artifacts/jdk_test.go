package artifacts

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The JDK tarball must run from wherever it is unpacked: no link back into
// /usr/lib/jvm or /etc/java-17-openjdk may be needed.
func TestJDKTarballRunsElsewhere(t *testing.T) {
	m := prepared(t)
	if m.JDKTarball != "jdk-17-linux-x64.tar.gz" || !strings.HasPrefix(m.JDKTopDir, "jdk-17.") {
		t.Fatalf("JDK tarball/top dir = %s/%s", m.JDKTarball, m.JDKTopDir)
	}
	heads, _ := readTarball(t, filepath.Join(m.Dir, m.JDKTarball))
	for _, want := range []string{"bin/java", "lib/server/libjvm.so", "lib/modules", "conf/security/java.security",
		"lib/security/cacerts", "release"} {
		if _, ok := heads[m.JDKTopDir+"/"+want]; !ok {
			t.Errorf("JDK tarball lacks %s/%s", m.JDKTopDir, want)
		}
	}
	dir := t.TempDir()
	untar(t, filepath.Join(m.Dir, m.JDKTarball), dir)
	cmd := exec.Command(filepath.Join(dir, m.JDKTopDir, "bin", "java"), "-version")
	cmd.Dir = t.TempDir() // a different directory than the JDK's
	cmd.Env = []string{"PATH=/nonexistent"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("java -version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `version "`+m.JDKVersion+`"`) {
		t.Fatalf("java -version says:\n%s\nwant version %s", out, m.JDKVersion)
	}
}

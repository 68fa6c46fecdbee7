package cli

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A --msm-jars directory that is not one MSM release is a usage error found
// before the lab's lock and clean-up, so a running lab is never touched:
// the state dir given as --cache-dir stays empty.
func TestLabUpRefusesAnIncompleteMSMRelease(t *testing.T) {
	for name, c := range map[string]struct {
		jars []string
		want string
	}{
		"core only":    {[]string{"memcached-session-manager-2.3.2.jar"}, "memcached-session-manager-tc9-2.3.2.jar is missing"},
		"two versions": {[]string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.1.jar"}, "more than one MSM version"},
	} {
		t.Run(name, func(t *testing.T) {
			jars, cache := t.TempDir(), t.TempDir()
			for _, j := range c.jars {
				writeTestJar(t, filepath.Join(jars, j))
			}
			var out, errb bytes.Buffer
			code := Main([]string{"lab", "up", "--msm-jars", jars, "--cache-dir", cache, "--dir", t.TempDir()}, &out, &errb)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, errb.String())
			}
			if ents, _ := os.ReadDir(cache); len(ents) != 0 {
				t.Errorf("lab up touched its cache dir: %v", ents)
			}
		})
	}
}

// writeTestJar writes a jar whose manifest is not the stand-in's.
func writeTestJar(t *testing.T, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("META-INF/MANIFEST.MF")
	w.Write([]byte("Manifest-Version: 1.0\r\nImplementation-Title: memcached-session-manager\r\n\r\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

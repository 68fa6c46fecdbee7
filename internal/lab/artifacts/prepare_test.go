package artifacts

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPrepareIsIdempotentAndFast(t *testing.T) {
	m := prepared(t)
	before := map[string]time.Time{}
	for _, n := range append([]string{m.TomcatTarball, m.TomcatSHA512, m.JDKTarball}, m.MSMJars...) {
		st, err := os.Stat(filepath.Join(m.Dir, n))
		if err != nil {
			t.Fatalf("Prepare left no %s: %v", n, err)
		}
		before[n] = st.ModTime()
	}
	start := time.Now()
	again, err := Prepare(context.Background(), m.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("second Prepare took %v; it should only compare files", d)
	}
	if !reflect.DeepEqual(m, again) {
		t.Errorf("second Prepare returned %+v, first %+v", again, m)
	}
	for n, mt := range before {
		if st, _ := os.Stat(filepath.Join(m.Dir, n)); !st.ModTime().Equal(mt) {
			t.Errorf("%s was rewritten", n)
		}
	}
}

func TestStandInJarsAreMarked(t *testing.T) {
	m := prepared(t)
	want := []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar", "spymemcached-2.12.3.jar"}
	if !m.MSMStandIn || m.MSMVersion != "2.3.2" || !reflect.DeepEqual(m.MSMJars, want) {
		t.Fatalf("MSM in manifest: standIn=%v version=%s jars=%v", m.MSMStandIn, m.MSMVersion, m.MSMJars)
	}
	for _, j := range want[:2] {
		mf, err := readJarManifest(filepath.Join(m.Dir, j))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(mf, "Implementation-Title: "+StandInTitle) {
			t.Errorf("%s manifest lacks the stand-in title:\n%s", j, mf)
		}
	}
	tc9Only := func(j string) bool {
		return jarHas(t, filepath.Join(m.Dir, j), "de/javakaffee/web/msm/MemcachedBackupSessionManager.class")
	}
	if !tc9Only(want[1]) || tc9Only(want[0]) {
		t.Error("the Manager class must be in the -tc9 jar only")
	}
	if !jarHas(t, filepath.Join(m.Dir, want[0]), "de/javakaffee/web/msm/MemcachedSessionService.class") {
		t.Error("core jar lacks MemcachedSessionService")
	}
	if si, _ := jarIsStandIn(filepath.Join(m.Dir, want[2])); si {
		t.Error("spymemcached must be Debian's real jar")
	}
}

func jarHas(t *testing.T, jar, name string) bool {
	t.Helper()
	zr, err := openZip(jar)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			return true
		}
	}
	return false
}

// fakeRealJar writes a jar whose manifest is not the stand-in's.
func fakeRealJar(t *testing.T, file string) []byte {
	t.Helper()
	err := writeJar(file, "Manifest-Version: 1.0\r\nImplementation-Title: memcached-session-manager\r\n\r\n",
		[]jarEntry{{"de/javakaffee/web/msm/Real.class", []byte("real " + filepath.Base(file))}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(file)
	return b
}

func TestPrepareKeepsRealMSMJars(t *testing.T) {
	m := prepared(t) // warms the cache
	dir := t.TempDir()
	// A stand-in left from an earlier run must not stay beside real MSM.
	stale, _ := os.ReadFile(filepath.Join(m.Dir, "memcached-session-manager-tc9-2.3.2.jar"))
	os.WriteFile(filepath.Join(dir, "memcached-session-manager-tc9-2.3.1.jar"), stale, 0o644)
	core := fakeRealJar(t, filepath.Join(dir, "memcached-session-manager-2.3.2.jar"))
	tc9 := fakeRealJar(t, filepath.Join(dir, "memcached-session-manager-tc9-2.3.2.jar"))

	got, err := Prepare(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar", "spymemcached-2.12.3.jar"}
	if got.MSMStandIn || got.MSMVersion != "2.3.2" || !reflect.DeepEqual(got.MSMJars, want) {
		t.Fatalf("with real MSM: standIn=%v version=%s jars=%v", got.MSMStandIn, got.MSMVersion, got.MSMJars)
	}
	for name, b := range map[string][]byte{want[0]: core, want[1]: tc9} {
		if now, _ := os.ReadFile(filepath.Join(dir, name)); string(now) != string(b) {
			t.Errorf("Prepare changed the real %s", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "memcached-session-manager-tc9-2.3.1.jar")); err == nil {
		t.Error("stale stand-in jar left beside real MSM")
	}
}

func TestPrepareRejectsIncompleteRealMSM(t *testing.T) {
	prepared(t)
	dir := t.TempDir()
	fakeRealJar(t, filepath.Join(dir, "memcached-session-manager-2.3.2.jar"))
	_, err := Prepare(context.Background(), dir, nil)
	if err == nil || !strings.Contains(err.Error(), "memcached-session-manager-tc9-2.3.2.jar is missing") {
		t.Fatalf("want an error about the missing tc9 jar, got %v", err)
	}
}

package artifacts

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCheckMSMJarsNamesWhatIsWrong(t *testing.T) {
	standIn := filepath.Join(t.TempDir(), "si.jar")
	if err := writeJar(standIn, standInManifest(), []jarEntry{{"x.class", []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	siBytes, _ := os.ReadFile(standIn)
	for _, c := range []struct {
		name  string
		real  []string // fake real jars to create
		si    []string // stand-in jars to create
		want  string   // substring of the error; "" = accepted
		jars  []string
		noDir bool
	}{
		{name: "release", real: []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar"},
			jars: []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar"}},
		{name: "release+spy", real: []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar", "spymemcached-2.12.3.jar"},
			jars: []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar", "spymemcached-2.12.3.jar"}},
		{name: "core only", real: []string{"memcached-session-manager-2.3.2.jar"},
			want: "memcached-session-manager-tc9-2.3.2.jar is missing"},
		{name: "tc9 only", real: []string{"memcached-session-manager-tc9-2.3.2.jar"},
			want: "memcached-session-manager-2.3.2.jar is missing"},
		{name: "two versions", real: []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.1.jar"},
			want: "more than one MSM version (memcached-session-manager-2.3.2.jar, memcached-session-manager-tc9-2.3.1.jar)"},
		{name: "two cores", real: []string{"memcached-session-manager-2.3.1.jar", "memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar"},
			want: "more than one MSM version"},
		{name: "empty", want: "no memcached-session-manager-<v>.jar and no memcached-session-manager-tc9-<v>.jar"},
		{name: "stand-in", si: []string{"memcached-session-manager-2.3.2.jar"}, real: []string{"memcached-session-manager-tc9-2.3.2.jar"},
			want: "is clusterctl's stand-in, not real memcached-session-manager"},
		{name: "not a directory", noDir: true, want: "is not a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range c.real {
				fakeRealJar(t, filepath.Join(dir, n))
			}
			for _, n := range c.si {
				os.WriteFile(filepath.Join(dir, n), siBytes, 0o644)
			}
			if c.noDir {
				dir = filepath.Join(dir, "absent")
			}
			rel, err := CheckMSMJars(dir)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if rel.Version != "2.3.2" || !reflect.DeepEqual(rel.Jars, c.jars) || rel.Dir != dir {
					t.Fatalf("release %+v", rel)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// A release passed to Prepare replaces the stand-in and is recorded; the
// next Prepare without one goes back to the stand-in, so --msm-jars holds
// for one lab only.
func TestPrepareWithReleaseThenWithout(t *testing.T) {
	prepared(t) // warms the cache
	src, dir := t.TempDir(), t.TempDir()
	core := fakeRealJar(t, filepath.Join(src, "memcached-session-manager-2.3.2.jar"))
	fakeRealJar(t, filepath.Join(src, "memcached-session-manager-tc9-2.3.2.jar"))
	rel, err := CheckMSMJars(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(context.Background(), dir, nil); err != nil { // the stand-in first
		t.Fatal(err)
	}
	got, err := Prepare(context.Background(), dir, &rel)
	if err != nil {
		t.Fatal(err)
	}
	if got.MSMStandIn || got.MSMVersion != "2.3.2" {
		t.Fatalf("with a release: %+v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "memcached-session-manager-2.3.2.jar")); string(b) != string(core) {
		t.Error("the release's core jar was not copied")
	}
	if s := got.MSMSummary(); !strings.HasPrefix(s, "real memcached-session-manager 2.3.2: memcached-session-manager-2.3.2.jar sha256 ") {
		t.Errorf("summary %q", s)
	}
	back, err := Prepare(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !back.MSMStandIn {
		t.Fatalf("without a release the lab must go back to the stand-in: %+v", back)
	}
	if s := back.MSMSummary(); !strings.HasPrefix(s, "clusterctl's MSM stand-in") {
		t.Errorf("summary %q", s)
	}
	if _, err := os.Stat(filepath.Join(dir, msmSourceFile)); err == nil {
		t.Error("the release marker outlived the release")
	}
}

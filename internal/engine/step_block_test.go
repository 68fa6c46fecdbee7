package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBlockApply(t *testing.T) {
	b := Block{Path: "/etc/hosts", Name: "cluster", Content: "10.0.0.1 t58\n10.0.0.2 t68"}
	const blk = "# BEGIN clusterctl cluster\n10.0.0.1 t58\n10.0.0.2 t68\n# END clusterctl cluster\n"
	tests := []struct {
		name, in, want string
		absent         bool
	}{
		{"empty file", "", blk, false},
		{"append", "127.0.0.1 localhost\n", "127.0.0.1 localhost\n" + blk, false},
		{"append after a last line without newline", "127.0.0.1 localhost", "127.0.0.1 localhost\n" + blk, false},
		{
			"replace in place, surroundings untouched",
			"top\n# BEGIN clusterctl cluster\nstale\n# END clusterctl cluster\nbottom\n",
			"top\n" + blk + "bottom\n", false,
		},
		{"already right", "x\n" + blk + "y\n", "x\n" + blk + "y\n", false},
		{"other block left alone", "# BEGIN clusterctl other\nz\n# END clusterctl other\n", "# BEGIN clusterctl other\nz\n# END clusterctl other\n" + blk, false},
		{"remove", "top\n" + blk + "bottom\n", "top\nbottom\n", true},
		{"remove absent block", "top\n", "top\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := b
			b.Absent = tc.absent
			got, err := b.Apply([]byte(tc.in))
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v\nwant %q", got, err, tc.want)
			}
		})
	}
}

func TestBlockApplyRejectsBrokenMarkers(t *testing.T) {
	b := Block{Path: "/etc/hosts", Name: "cluster", Content: "x"}
	for _, in := range []string{
		"# BEGIN clusterctl cluster\nx\n",
		"x\n# END clusterctl cluster\n",
		"# END clusterctl cluster\n# BEGIN clusterctl cluster\n",
		"# BEGIN clusterctl cluster\n# END clusterctl cluster\n# BEGIN clusterctl cluster\n# END clusterctl cluster\n",
	} {
		if _, err := b.Apply([]byte(in)); err == nil {
			t.Errorf("%q: want an error, not a guess", in)
		}
	}
}

func TestBlockOnHostPreservesRestAndIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	p := filepath.Join(dir, "hosts")
	writeFile(t, p, "127.0.0.1 localhost\n::1 localhost\n")
	if err := os.Chmod(p, 0o604); err != nil {
		t.Fatal(err)
	}
	step := Block{Path: p, Name: "cluster", Content: "192.168.250.58 t58.shone.cn t58\n"}

	rc, evs := converge(t, h, Options{Diff: true}, step)
	want := "127.0.0.1 localhost\n::1 localhost\n# BEGIN clusterctl cluster\n192.168.250.58 t58.shone.cn t58\n# END clusterctl cluster\n"
	if rc.Hosts[0].Changed != 1 || readFile(t, p) != want {
		t.Fatalf("%+v\n%q", rc.Hosts[0], readFile(t, p))
	}
	if d := stepEvents(evs)[0].Diff; !strings.Contains(d, "@@ -1,2 +1,5 @@\n 127.0.0.1 localhost\n ::1 localhost\n+# BEGIN") {
		t.Fatalf("diff:\n%s", d)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o604 {
		t.Fatalf("mode of an edited file changed: %v", st.Mode())
	}

	rc, _ = converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 0 || readFile(t, p) != want {
		t.Fatalf("second run: %+v", rc.Hosts[0])
	}

	// Someone edits around the block; a content change replaces it in place.
	writeFile(t, p, "# admin\n"+want+"10.9.9.9 extra\n")
	step.Content = "192.168.250.68 t68.shone.cn t68\n"
	converge(t, h, Options{}, step)
	want = "# admin\n127.0.0.1 localhost\n::1 localhost\n# BEGIN clusterctl cluster\n192.168.250.68 t68.shone.cn t68\n# END clusterctl cluster\n10.9.9.9 extra\n"
	if got := readFile(t, p); got != want {
		t.Fatalf("got %q", got)
	}
}

func TestBlockAbsentOnMissingFileCreatesNothing(t *testing.T) {
	h, _ := newTestHost("h1")
	p := filepath.Join(t.TempDir(), "nope")
	rc, _ := converge(t, h, Options{}, Block{Path: p, Name: "x", Absent: true})
	if rc.Failed() || rc.Hosts[0].OK != 1 {
		t.Fatalf("%+v", rc.Hosts[0])
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("file was created")
	}
}

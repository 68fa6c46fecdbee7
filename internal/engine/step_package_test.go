package engine

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPackageCommands(t *testing.T) {
	names := []string{"nginx", "memcached"}
	tests := []struct {
		name   string
		facts  Facts
		remove bool
		query  string
		change []string
	}{
		{
			"debian install", debianFacts, false,
			`for p in nginx memcached; do if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$'; then echo "$p installed"; else echo "$p missing"; fi; done`,
			[]string{
				"if ! find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -mmin -1440 2>/dev/null | grep -q .; then apt-get -o DPkg::Lock::Timeout=300 update -q; fi",
				"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends nginx memcached",
			},
		},
		{
			"debian remove", debianFacts, true, "",
			[]string{"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 remove -y nginx memcached"},
		},
		{
			"rhel install", rhelFacts, false,
			`for p in nginx memcached; do if rpm -q --quiet "$p"; then echo "$p installed"; else echo "$p missing"; fi; done`,
			[]string{"dnf install -y nginx memcached"},
		},
		{"rhel remove", rhelFacts, true, "", []string{"dnf remove -y nginx memcached"}},
		{"centos 7 install", centos7Facts, false, "", []string{"yum install -y nginx memcached"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.query != "" {
				q, err := packageQueryCmd(tc.facts, names)
				if err != nil || q != tc.query {
					t.Errorf("query:\n got %s\nwant %s", q, tc.query)
				}
			}
			cmds, err := packageChangeCmds(tc.facts, names, tc.remove, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cmds {
				got = append(got, c.cmd)
			}
			if !slices.Equal(got, tc.change) {
				t.Errorf("change:\n got %q\nwant %q", got, tc.change)
			}
		})
	}
	if _, err := packageQueryCmd(Facts{ID: "alpine"}, names); err == nil {
		t.Error("unsupported OS: want an error")
	}
	if got := aptUpdateIfStaleCmd(2 * time.Hour); !strings.Contains(got, "-mmin -120 ") {
		t.Errorf("max age not honoured: %s", got)
	}
}

func TestParsePackageQuery(t *testing.T) {
	got, err := parsePackageQuery("nginx installed\nmemcached missing\n", []string{"nginx", "memcached"})
	if err != nil || !got["nginx"] || got["memcached"] {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parsePackageQuery("nginx installed\n", []string{"nginx", "memcached"}); err == nil {
		t.Fatal("a name without an answer must be an error, not 'missing'")
	}
}

// The real query command (through a stub dpkg-query) drives which packages
// get installed.
func TestPackageInstallsOnlyMissingThenIsIdempotent(t *testing.T) {
	h, c := newTestHost("h1")
	state := stubTools(t, c)
	writeFile(t, filepath.Join(state, "pkg", "nginx"), "")
	step := Package{Names: []string{"nginx", "memcached", "libmemcached-tools"}}

	rc, evs := converge(t, h, Options{}, step)
	if rc.Failed() || stepEvents(evs)[0].Summary != "install memcached libmemcached-tools" {
		t.Fatalf("%+v %+v", rc.Hosts[0], stepEvents(evs))
	}
	want := []string{
		"apt-get -o DPkg::Lock::Timeout=300 update -q",
		"apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends memcached libmemcached-tools",
	}
	if got := stubLog(t, state); !slices.Equal(got, want) {
		t.Fatalf("ran %q", got)
	}
	rc, _ = converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 0 || rc.Hosts[0].OK != 1 {
		t.Fatalf("second run: %+v", rc.Hosts[0])
	}
}

// Removing a package journals how teardown installs it again, per family.
func TestPackageRemovalJournalsReinstall(t *testing.T) {
	for _, tc := range []struct {
		facts            Facts
		undo, undoUnless string
	}{
		{rhelFacts, "dnf install -y telnet", `for p in telnet; do rpm -q --quiet "$p" || exit 1; done`},
		{debianFacts, "DEBIAN_FRONTEND=noninteractive apt-get " + aptLockWait + " install -y --no-install-recommends telnet",
			`for p in telnet; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || exit 1; done`},
	} {
		rec, err := Package{Names: []string{"telnet"}, State: Absent}.reinstall(tc.facts, []string{"telnet"})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind != RecordCommandRan || !strings.HasSuffix(rec.Undo, tc.undo) || rec.UndoUnless != tc.undoUnless {
			t.Errorf("%s: %+v", tc.facts.ID, rec)
		}
	}
}

// The lock check names the process holding the lock, and nothing once it
// is gone (a flock(1) holder stands in for dpkg: /proc/locks lists both).
func TestLockHoldersNamesTheHolder(t *testing.T) {
	h, _ := newTestHost("h1")
	lock := filepath.Join(t.TempDir(), "lock-frontend")
	writeFile(t, lock, "")
	cmd := lockHoldersCmd(Quote(lock))
	if res, err := h.Conn.Run(context.Background(), cmd); err != nil || strings.TrimSpace(res.Stdout) != "" {
		t.Fatalf("free lock: %q %v", res.Stdout, err)
	}
	holder := exec.Command("flock", lock, "sleep", "30")
	if err := holder.Start(); err != nil {
		t.Skipf("flock(1) not available here: %v", err)
	}
	defer holder.Process.Kill()
	var out string
	for i := 0; i < 50 && !strings.Contains(out, lock); i++ {
		time.Sleep(20 * time.Millisecond)
		res, err := h.Conn.Run(context.Background(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		out = res.Stdout
	}
	if !strings.Contains(out, lock) || !(strings.Contains(out, " sleep ") || strings.Contains(out, " flock ")) {
		t.Fatalf("held lock: %q, want the holder named", out)
	}
	for _, f := range []Facts{debianFacts, rhelFacts} {
		if c, err := PackageLockCmd(f); err != nil || !strings.Contains(c, "/proc/locks") {
			t.Errorf("%s: %q %v", f.ID, c, err)
		}
	}
	if c, _ := PackageLockCmd(rhelFacts); !strings.Contains(c, "/var/lib/rpm/.rpm.lock") || !strings.Contains(c, "rpmdb_lock.pid") {
		t.Errorf("rhel lock cmd: %q", c)
	}
}

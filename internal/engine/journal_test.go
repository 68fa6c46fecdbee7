package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func journalKinds(t *testing.T, state string) []string {
	t.Helper()
	recs, ok, err := ReadJournal(context.Background(), newLocalConn("x"), state)
	if err != nil || !ok {
		t.Fatalf("journal: %v %v", ok, err)
	}
	var out []string
	for _, r := range recs {
		name := r.Name
		if r.Path != "" {
			name = filepath.Base(r.Path)
		}
		out = append(out, string(r.Kind)+" "+name)
	}
	return out
}

func TestRecordsAndBackupOnce(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
	h, c := newTestHost("h1")
	conf, made := filepath.Join(dir, "app.conf"), filepath.Join(dir, "made.conf")
	writeFile(t, conf, "original\n")
	steps := func(v string) []Step {
		return []Step{
			File{Path: conf, Content: []byte(v)},
			File{Path: made, Content: []byte(v)},
			Directory{Path: filepath.Join(dir, "a/b/c")},
			Symlink{Path: filepath.Join(dir, "cur"), Target: "a"},
			Command{Label: "touch", Cmd: "touch " + Quote(filepath.Join(dir, "flag")), Creates: filepath.Join(dir, "flag")},
		}
	}
	converge(t, h, Options{StateDir: state}, steps("v1\n")...)
	want := []string{"file_replaced app.conf", "file_created made.conf", "dir_created a", "symlink_created cur", "command_created flag"}
	if got := journalKinds(t, state); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("journal %q\nwant %q", got, want)
	}
	backup := BackupPath(state, conf)
	if readFile(t, backup) != "original\n" {
		t.Fatal("no backup of the original")
	}

	// A no-op apply touches neither the journal nor the backups: no extra
	// round trip at all.
	n := len(c.Commands())
	converge(t, h, Options{StateDir: state}, steps("v1\n")...)
	for _, cmd := range c.Commands()[n:] {
		if strings.Contains(cmd, JournalFile) {
			t.Fatalf("no-op apply wrote the journal: %s", cmd)
		}
	}

	// The same file changed again: recorded again, backup kept as it was.
	converge(t, h, Options{StateDir: state}, steps("v2\n")...)
	if readFile(t, backup) != "original\n" {
		t.Fatalf("backup overwritten: %q", readFile(t, backup))
	}
	recs, _, _ := ReadJournal(context.Background(), c, state)
	last := recs[len(recs)-1]
	if last.Kind != RecordFileReplaced || filepath.Base(last.Path) != "made.conf" || last.Step == "" || last.Time.IsZero() {
		t.Fatalf("last record %+v", last)
	}
	if st, _ := os.Stat(state); st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v", st.Mode())
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
	h, _ := newTestHost("h1")
	writeFile(t, filepath.Join(dir, "f"), "old\n")
	converge(t, h, Options{StateDir: state, DryRun: true}, File{Path: filepath.Join(dir, "f"), Content: []byte("new\n")})
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("dry run created the state dir: %v", err)
	}
}

// Write-ahead: when the journal cannot be written, the change is not made
// (it would be one teardown cannot see).
func TestJournalFailureStopsTheChange(t *testing.T) {
	dir := t.TempDir()
	h, _ := newTestHost("h1")
	blocker := filepath.Join(dir, "not-a-dir")
	writeFile(t, blocker, "")
	target := filepath.Join(dir, "f")
	rc, _ := converge(t, h, Options{StateDir: filepath.Join(blocker, "state")}, File{Path: target, Content: []byte("x\n")})
	if !rc.Failed() {
		t.Fatal("step succeeded without a journal")
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatal("file written although the journal was not")
	}
}

func TestPackageRecordsDependenciesAndUsers(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	h, c := newTestHost("h1")
	st := stubTools(t, c)
	writeFile(t, filepath.Join(st, "pkg", "curl"), "")
	// dpkg-query without a name lists everything; getent without a key
	// enumerates; apt-get install also pulls a dependency and makes a user.
	overrideStub(t, c, "dpkg-query", `if [ -z "$3" ]; then for f in "$STATE"/pkg/*; do echo "install ok installed ${f##*/}"; done; exit 0; fi
[ -e "$STATE/pkg/$3" ] && printf 'install ok installed' && exit 0; exit 1`)
	overrideStub(t, c, "getent", `[ -z "$2" ] && { [ "$1" = passwd ] && cat "$STATE"/users/* 2>/dev/null; exit 0; }; [ -e "$STATE/users/$2" ] && { cat "$STATE/users/$2"; exit 0; }; exit 2`)
	overrideStub(t, c, "apt-get", `echo "apt-get $*" >> "$STATE/log"; case "$*" in *install*) touch "$STATE/pkg/nginx" "$STATE/pkg/nginx-common"; echo "www:x:33:33::/:/bin/false" > "$STATE/users/www";; esac`)
	converge(t, h, Options{StateDir: state}, Package{Names: []string{"curl", "nginx"}})
	got := strings.Join(journalKinds(t, state), ",")
	if got != "package_installed nginx,package_installed nginx-common,user_created www" {
		t.Fatalf("journal %s", got)
	}
}

func TestServiceUserHostnameTimezoneRecords(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	h, c := newTestHost("h1")
	st := stubTools(t, c)
	hostFile := filepath.Join(t.TempDir(), "hostname")
	writeFile(t, filepath.Join(st, "hn"), "old-name\n")
	overrideStub(t, c, "hostname", `cat "$STATE/hn"`)
	overrideStub(t, c, "hostnamectl", `echo "$2" > "$STATE/hn"; echo "$2" > `+Quote(hostFile))
	overrideStub(t, c, "timedatectl", `case "$1" in show) cat "$STATE/tz" 2>/dev/null || echo Etc/UTC;; *) echo "$2" > "$STATE/tz";; esac`)
	steps := []Step{
		Service{Name: "tomcat", State: Started, Enabled: Bool(true)},
		User{Name: "tomcat", System: true},
		Hostname{Name: "t58.example", File: hostFile},
		Timezone{Name: "Asia/Shanghai", Localtime: filepath.Join(st, "no-localtime")}, // timedatectl's answer counts
	}
	rc, _ := converge(t, h, Options{StateDir: state}, steps...)
	if rc.Failed() {
		t.Fatalf("%+v", rc.Hosts[0])
	}
	recs, _, _ := ReadJournal(context.Background(), c, state)
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Kind)+":"+r.Name+r.Previous+r.Path)
	}
	want := "service_enabled:tomcat,service_started:tomcat,user_created:tomcat,hostname:old-name,file_created:" + hostFile + ",timezone:Etc/UTC"
	if strings.Join(got, ",") != want {
		t.Fatalf("journal %q\nwant %s", got, want)
	}
	if rc, _ := converge(t, h, Options{StateDir: state}, steps...); rc.Hosts[0].Changed != 0 {
		t.Fatalf("second run not idempotent: %+v", rc.Hosts[0])
	}
}

func TestReadJournalToleratesACutLastLine(t *testing.T) {
	state := t.TempDir()
	writeFile(t, JournalPath(state), `{"kind":"file_created","path":"/a"}`+"\n"+`{"kind":"file_cr`)
	recs, ok, err := ReadJournal(context.Background(), newLocalConn("x"), state)
	if err != nil || !ok || len(recs) != 1 {
		t.Fatalf("%v %v %v", recs, ok, err)
	}
	writeFile(t, JournalPath(state), `{"kind":"file_cr`+"\n"+`{"kind":"file_created","path":"/a"}`+"\n")
	if _, _, err := ReadJournal(context.Background(), newLocalConn("x"), state); err == nil {
		t.Fatal("a bad line in the middle must be an error")
	}
	if _, ok, err := ReadJournal(context.Background(), newLocalConn("x"), filepath.Join(state, "none")); ok || err != nil {
		t.Fatal("missing journal")
	}
}

// The zone is read from the /etc/localtime link without timedatectl, and
// only a link into a zoneinfo tree counts.
func TestTimezoneReadFromLocaltimeLink(t *testing.T) {
	dir := t.TempDir()
	h, c := newTestHost("h1")
	st := stubTools(t, c)
	overrideStub(t, c, "timedatectl", `case "$1" in show) echo From/Timedatectl;; *) echo "$2" > "$STATE/tz";; esac`)
	link := filepath.Join(dir, "localtime")
	if err := os.Symlink("../usr/share/zoneinfo/Asia/Shanghai", link); err != nil {
		t.Fatal(err)
	}
	if rc, _ := converge(t, h, Options{StateDir: filepath.Join(dir, "state")}, Timezone{Name: "Asia/Shanghai", Localtime: link}); rc.Hosts[0].Changed != 0 {
		t.Fatalf("zone from the link not recognised: %+v", rc.Hosts[0])
	}
	if _, err := os.Stat(filepath.Join(st, "tz")); err == nil {
		t.Fatal("timedatectl set-timezone ran although the zone was right")
	}
	plain := filepath.Join(dir, "plain")
	writeFile(t, plain, "TZif")
	rc, evs := converge(t, h, Options{StateDir: filepath.Join(dir, "state")}, Timezone{Name: "Asia/Shanghai", Localtime: plain})
	var summary string
	for _, e := range evs {
		if e.Type == EventStep {
			summary = e.Summary
		}
	}
	if rc.Hosts[0].Changed != 1 || !strings.Contains(summary, "was From/Timedatectl") {
		t.Fatalf("a file that is no link must fall back to timedatectl: %+v %q", rc.Hosts[0], summary)
	}
}

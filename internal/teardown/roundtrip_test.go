package teardown

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// lab is one fake host: a temp tree standing for its filesystem, stub
// tools for packages, units, users, hostname and timezone, and the state
// dir apply journals into.
type lab struct {
	t                 *testing.T
	tree, state, stub string
	conn              *enginetest.LocalConn
}

func newLab(t *testing.T) *lab {
	root := t.TempDir()
	l := &lab{t: t, tree: filepath.Join(root, "tree"), state: filepath.Join(root, "var/lib/clusterctl")}
	var env []string
	l.stub, env = enginetest.Stubs(t, l.p("etc/hostname"))
	l.conn = &enginetest.LocalConn{Name: "t58", Env: env}
	// What the host has before apply: files apply will replace or edit,
	// a package and a running service apply will find in place.
	l.write("etc/hosts", "127.0.0.1 localhost\n", 0o644)
	l.write("etc/app.conf", "original\n", 0o600)
	l.write("etc/fw-ports", "22/tcp\n", 0o644) // a firewall with ssh open
	l.mkdir("opt")
	l.write(filepath.Join(l.stub, "hostname"), "pristine\n", 0o644)
	l.write(filepath.Join(l.stub, "timezone"), "Etc/UTC\n", 0o644)
	l.write(filepath.Join(l.stub, "pkg/curl"), "", 0o644)
	l.write(filepath.Join(l.stub, "pkg/telnet"), "", 0o644) // apply removes it
	l.write(filepath.Join(l.stub, "users/www"), "www:x:33:33::/var/www:/bin/sh\n", 0o644)
	l.write(filepath.Join(l.stub, "deps/nginx"), "nginx-common libnginx\n", 0o644)
	l.write(filepath.Join(l.stub, "pkguser/memcached"), "memcache\n", 0o644)
	l.write(filepath.Join(l.stub, "active/chrony"), "", 0o644)
	l.write(filepath.Join(l.stub, "enabled/chrony"), "", 0o644)
	return l
}

func (l *lab) p(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(l.tree, rel)
}

func (l *lab) write(rel, content string, mode os.FileMode) {
	l.t.Helper()
	p := l.p(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		l.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) mkdir(rel string) {
	if err := os.MkdirAll(l.p(rel), 0o755); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) read(rel string) string {
	b, err := os.ReadFile(l.p(rel))
	if err != nil {
		l.t.Fatal(err)
	}
	return string(b)
}

// fingerprint is the tree byte for byte plus the stubs' packages, units,
// accounts, hostname and timezone (not their log).
func (l *lab) fingerprint() string {
	l.t.Helper()
	fp := enginetest.Fingerprint(l.t, l.tree)
	for _, d := range []string{"pkg", "active", "enabled", "users", "groups"} {
		fp += strings.ReplaceAll(enginetest.Fingerprint(l.t, filepath.Join(l.stub, d)), l.stub, "STUB")
	}
	return fp + "hostname " + l.read(filepath.Join(l.stub, "hostname")) + "timezone " + l.read(filepath.Join(l.stub, "timezone"))
}

func (l *lab) host() *engine.Host {
	h := engine.NewHost(l.conn, nil)
	h.Facts = engine.Facts{ID: "debian", VersionID: "12", Major: 12, Family: engine.FamilyDebian, PackageManager: engine.PkgApt}
	return h
}

// steps are one of every recording step kind, over the tree.
func (l *lab) steps(appConf string) []engine.Step {
	tarball := filepath.Join(l.t.TempDir(), "pkg.tar")
	os.WriteFile(tarball, []byte("tarball bytes"), 0o644)
	return []engine.Step{
		engine.Hostname{Name: "t58.example", File: l.p("etc/hostname")},
		engine.Timezone{Name: "Asia/Shanghai"},
		engine.Block{Path: l.p("etc/hosts"), Name: "hosts", Content: "10.0.0.58 t58.example t58\n"},
		engine.File{Path: l.p("etc/app.conf"), Content: []byte(appConf)},
		engine.File{Path: l.p("etc/new.conf"), Content: []byte("created by apply\n"), Meta: remote.FileMeta{Mode: 0o640}},
		engine.Package{Names: []string{"curl", "nginx", "memcached"}},
		engine.User{Name: "tomcat", System: true},
		engine.User{Name: "www", Shell: "/usr/sbin/nologin"}, // an existing account, modified
		engine.Package{Names: []string{"telnet"}, State: engine.Absent},
		engine.Directory{Path: l.p("opt/app/data/cache")},
		engine.Upload{Local: tarball, Path: l.p("opt/app/pkg.tar")},
		engine.Command{Label: "unpack", Cmd: "mkdir -p " + engine.Quote(l.p("opt/unpacked")) + " && echo x > " + engine.Quote(l.p("opt/unpacked/f")), Creates: l.p("opt/unpacked")},
		engine.Symlink{Path: l.p("opt/current"), Target: l.p("opt/unpacked")},
		l.openPort("22/tcp"), // open before apply: teardown must leave it
		l.openPort("8080/tcp"),
		engine.Service{Name: "tomcat", State: engine.Started, Enabled: engine.Bool(true)},
		engine.Service{Name: "chrony", State: engine.Started, Enabled: engine.Bool(true)},
	}
}

// openPort is a guarded command with an undo, over a stand-in firewall
// (a file of open ports), the way the firewall play opens ports.
func (l *lab) openPort(port string) engine.Step {
	fw := engine.Quote(l.p("etc/fw-ports"))
	has := "grep -qx " + engine.Quote(port) + " " + fw
	return engine.Command{Label: "open " + port, Cmd: "echo " + port + " >> " + fw, Unless: has,
		Undo: "sed -i '\\|^" + port + "$|d' " + fw, UndoUnless: "! " + has}
}

func (l *lab) apply(appConf string) engine.Recap {
	l.t.Helper()
	rc := engine.Run(context.Background(), []*engine.Host{l.host()}, []engine.Play{{Name: "apply", Steps: l.steps(appConf)}},
		engine.Options{StateDir: l.state}, nil)
	if rc.Failed() {
		l.t.Fatalf("apply: %+v", rc.Hosts[0])
	}
	return rc
}

var stamp = time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC)

func (l *lab) teardown(opts Options) (engine.Recap, []engine.Event) {
	l.t.Helper()
	opts.StateDir = l.state
	opts.Now = func() time.Time { return stamp }
	var col engine.Collector
	rc := Run(context.Background(), []*engine.Host{l.host()}, opts, &col)
	if rc.Failed() {
		for _, e := range col.Events() {
			if e.Err != nil {
				l.t.Logf("%s: %v", e.Step, e.Err)
			}
		}
		l.t.Fatalf("teardown: %+v", rc.Hosts[0])
	}
	return rc, col.Events()
}

func stepsWith(evs []engine.Event, status engine.Status) []string {
	var out []string
	for _, e := range evs {
		if (e.Type == engine.EventStep || e.Type == engine.EventHandler) && e.Status == status {
			out = append(out, e.Step)
		}
	}
	return out
}

// The core promise: apply, apply again with a changed file, teardown, and
// the host is byte for byte what it was; a second teardown does nothing.
func TestApplyTeardownRestoresEverything(t *testing.T) {
	l := newLab(t)
	before := l.fingerprint()

	l.apply("apply v1\n")
	if l.fingerprint() == before {
		t.Fatal("apply changed nothing: the test proves nothing")
	}
	if got := l.read("etc/hostname"); got != "t58.example\n" {
		t.Fatalf("hostname file %q", got)
	}
	l.apply("apply v2\n") // the same file changes again: its backup must stay the original
	if got := l.read(engine.BackupPath(l.state, l.p("etc/app.conf"))); got != "original\n" {
		t.Fatalf("backup overwritten by the second apply: %q", got)
	}

	rc, evs := l.teardown(Options{})
	if rc.Hosts[0].Changed == 0 {
		t.Fatalf("teardown changed nothing: %+v", rc.Hosts[0])
	}
	if after := l.fingerprint(); after != before {
		t.Fatalf("host not restored:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if _, err := os.Stat(l.state); !os.IsNotExist(err) {
		t.Fatalf("state dir left: %v", err)
	}
	// Only what apply installed goes: curl was there before.
	log := l.read(filepath.Join(l.stub, "log"))
	if !strings.Contains(log, "purge -y nginx memcached libnginx nginx-common\n") {
		t.Fatalf("no purge in:\n%s", log)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "purge") && strings.Contains(line, "curl") {
			t.Fatalf("purged a package apply did not install: %s", line)
		}
		if strings.Contains(line, "chrony") && (strings.Contains(line, "stop") || strings.Contains(line, "disable")) {
			t.Fatalf("stopped a service apply found running: %s", line)
		}
	}
	if got := stepsWith(evs, engine.StatusChanged); !contains(got, "stop and disable tomcat") || !contains(got, "remove user tomcat") ||
		!contains(got, "undo open 8080/tcp") || contains(got, "undo open 22/tcp") ||
		!contains(got, "undo modify user www") || !contains(got, "undo remove packages telnet") {
		t.Fatalf("changed steps %q", got)
	}

	// Second teardown: nothing recorded, says so, changes nothing.
	rc, evs = l.teardown(Options{})
	if h := rc.Hosts[0]; h.Changed != 0 || h.Skipped != 1 {
		t.Fatalf("second teardown: %+v", h)
	}
	if got := stepsWith(evs, engine.StatusSkipped); len(got) != 1 || !strings.Contains(got[0], "nothing recorded") {
		t.Fatalf("second teardown does not say there is nothing: %q", got)
	}
	if after := l.fingerprint(); after != before {
		t.Fatal("second teardown changed the host")
	}

	// apply works again after teardown (a fresh journal, fresh backups).
	l.apply("apply v1\n")
	l.teardown(Options{})
	if after := l.fingerprint(); after != before {
		t.Fatalf("apply, teardown a second time: not restored:\n%s\n---\n%s", before, after)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestTeardownKeepsHandEdits(t *testing.T) {
	l := newLab(t)
	l.apply("apply v1\n")
	l.write("etc/app.conf", "edited by hand\n", 0o600) // replaced by apply, then edited
	l.write("etc/new.conf", "also edited\n", 0o640)    // created by apply, then edited

	_, evs := l.teardown(Options{})
	suffix := editedSuffix + stamp.Format("20060102T150405Z")
	if got := l.read("etc/app.conf"); got != "original\n" {
		t.Fatalf("app.conf not restored: %q", got)
	}
	if got := l.read("etc/app.conf" + suffix); got != "edited by hand\n" {
		t.Fatalf("edit of app.conf not kept: %q", got)
	}
	if _, err := os.Stat(l.p("etc/new.conf")); !os.IsNotExist(err) {
		t.Fatalf("new.conf not removed: %v", err)
	}
	if got := l.read("etc/new.conf" + suffix); got != "also edited\n" {
		t.Fatalf("edit of new.conf not kept: %q", got)
	}
	var said int
	for _, e := range evs {
		if strings.Contains(e.Summary, "edited by hand") {
			said++
		}
	}
	if said != 2 {
		t.Fatalf("%d events say a file was edited by hand, want 2", said)
	}
}

func TestTeardownDryRunChangesNothing(t *testing.T) {
	l := newLab(t)
	l.apply("apply v1\n")
	applied := l.fingerprint()
	journal := l.read(engine.JournalPath(l.state))

	rc, evs := l.teardown(Options{DryRun: true})
	if rc.Hosts[0].Changed == 0 {
		t.Fatal("dry run reports nothing to do")
	}
	for _, e := range evs {
		if e.Status == engine.StatusChanged && !e.DryRun {
			t.Fatalf("dry run applied %q", e.Step)
		}
	}
	if l.fingerprint() != applied || l.read(engine.JournalPath(l.state)) != journal {
		t.Fatal("dry run changed the host or the journal")
	}
	if log := l.read(filepath.Join(l.stub, "log")); strings.Contains(log, "purge") || strings.Contains(log, "userdel") {
		t.Fatalf("dry run ran a change:\n%s", log)
	}
}

func TestTeardownKeepPackages(t *testing.T) {
	l := newLab(t)
	l.apply("apply v1\n")
	l.teardown(Options{KeepPackages: true})
	for _, p := range []string{"nginx", "nginx-common", "memcached"} {
		if _, err := os.Stat(filepath.Join(l.stub, "pkg", p)); err != nil {
			t.Errorf("--keep-packages removed %s", p)
		}
	}
	// The user the memcached package made stays with it; the one apply
	// made itself goes.
	if _, err := os.Stat(filepath.Join(l.stub, "users/memcache")); err != nil {
		t.Error("--keep-packages removed the package's user")
	}
	if _, err := os.Stat(filepath.Join(l.stub, "users/tomcat")); !os.IsNotExist(err) {
		t.Error("user tomcat left")
	}
}

// A directory that existed keeps its own mode after apply changed it.
func TestTeardownRestoresDirectoryMode(t *testing.T) {
	l := newLab(t)
	l.mkdir("srv/data")
	os.Chmod(l.p("srv/data"), 0o755)
	before := enginetest.Fingerprint(t, l.tree)
	rc := engine.Run(context.Background(), []*engine.Host{l.host()}, []engine.Play{{Name: "apply", Steps: []engine.Step{
		engine.Directory{Path: l.p("srv/data"), Meta: remote.FileMeta{Mode: 0o750}},
	}}}, engine.Options{StateDir: l.state}, nil)
	if rc.Failed() || rc.Hosts[0].Changed != 1 {
		t.Fatalf("apply %+v", rc.Hosts[0])
	}
	l.teardown(Options{})
	if after := enginetest.Fingerprint(t, l.tree); after != before {
		t.Fatalf("mode not restored:\n%s\n---\n%s", before, after)
	}
}

// A host whose journal cannot be read fails alone; the other is torn down.
func TestTeardownFailingHostDoesNotStopOthers(t *testing.T) {
	good, bad := newLab(t), newLab(t)
	bad.conn.Name = "t68"
	before := good.fingerprint()
	good.apply("v1\n")
	bad.apply("v1\n")
	bad.write(engine.JournalPath(bad.state), "not json\n{}\n", 0o600)

	// Each fake host has its own state dir: build each one's plays with it.
	var col engine.Collector
	plays := append(Plays(context.Background(), []*engine.Host{bad.host()}, Options{StateDir: bad.state}),
		Plays(context.Background(), []*engine.Host{good.host()}, Options{StateDir: good.state})...)
	rc := engine.Run(context.Background(), []*engine.Host{bad.host(), good.host()}, plays, engine.Options{StateDir: t.TempDir()}, &col) // never the machine's own state dir
	if !rc.Failed() || rc.FailedHosts() != 1 || rc.Hosts[0].Err == nil || rc.Hosts[1].Err != nil {
		t.Fatalf("recap %+v", rc.Hosts)
	}
	if after := good.fingerprint(); after != before {
		t.Fatal("the good host was not torn down")
	}
}

package preflight

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// localCheck checks this machine through the local shell: the same
// commands the checks run on a host over SSH.
func localCheck(t *testing.T) *hostCheck {
	t.Helper()
	h := engine.NewHost(&enginetest.LocalConn{Name: "local"}, nil)
	h.Facts = engine.Facts{ID: "debian", VersionID: "12", Major: 12, Family: engine.FamilyDebian, PackageManager: engine.PkgApt}
	return &hostCheck{ctx: context.Background(), h: h, opts: Options{}.withDefaults()}
}

func TestPortsNamesTheHolderThatIsNotTheUnit(t *testing.T) {
	if _, err := localCheck(t).sh("command -v ss"); err != nil {
		t.Skip("ss(8) is not installed here: the ports check reads it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	free := freePort(t)
	c := localCheck(t)
	_, _, err = c.ports([]Port{{Port: port, What: "tomcat http", Unit: "tomcat.service"}, {Port: free, What: "memcached", Unit: "memcached.service"}})
	if err == nil || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)+" (tomcat http) is held by pid") || !strings.Contains(err.Error(), "not by tomcat.service") {
		t.Fatalf("a port held by this test process: %v", err)
	}
	if strings.Contains(err.Error(), strconv.Itoa(free)) {
		t.Errorf("the free port is reported too: %v", err)
	}
	found, _, err := c.ports([]Port{{Port: free, What: "memcached", Unit: "memcached.service"}})
	if err != nil || !strings.Contains(found, strconv.Itoa(free)+" free") {
		t.Fatalf("free port: %q %v", found, err)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestAddressMustBeTheHostsOwn(t *testing.T) {
	c := localCheck(t)
	if _, _, err := c.address("127.0.0.1"); err != nil {
		t.Fatalf("loopback is this host's own: %v", err)
	}
	_, fix, err := c.address("192.0.2.7") // TEST-NET-1: on no interface
	if err == nil || !strings.Contains(err.Error(), "192.0.2.7 is not an address of this host (it has ") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("a foreign address: %v", err)
	}
	if !strings.Contains(fix, "--skip-preflight address") {
		t.Errorf("fix: %q", fix)
	}
}

func TestDiskCountsOnlyWhatIsMissing(t *testing.T) {
	c := localCheck(t)
	dir := t.TempDir()
	huge := func() (int64, error) { return 1 << 60, nil }
	_, _, err := c.disk([]Disk{{What: "JDK unpacked", Path: dir + "/not/yet/jdk", Bytes: huge}})
	if err == nil || !strings.Contains(err.Error(), "not enough free space") || !strings.Contains(err.Error(), "JDK unpacked") {
		t.Fatalf("an artifact larger than the disk: %v", err)
	}
	called := false
	found, _, err := c.disk([]Disk{{What: "JDK unpacked", Path: dir + "/jdk", Present: dir, Bytes: func() (int64, error) { called = true; return 1 << 60, nil }}})
	if err != nil || called {
		t.Fatalf("a present artifact needs nothing and is not sized: %q %v (sized: %v)", found, err, called)
	}
	c.opts.MinFreeMB = 1 << 40
	if _, _, err := c.disk([]Disk{{What: "JDK unpacked", Path: dir, Present: dir, Bytes: huge}}); err == nil || !strings.Contains(err.Error(), "must keep") {
		t.Fatalf("the margin holds even when every artifact is there: %v", err)
	}
	c.opts.MinFreeMB = DefaultMinFreeMB
	sizeErr := errors.New("no such tarball")
	if _, _, err := c.disk([]Disk{{What: "Tomcat tarball", Path: dir, Bytes: func() (int64, error) { return 0, sizeErr }}}); !errors.Is(err, sizeErr) {
		t.Fatalf("a size that cannot be read: %v", err)
	}
}

func TestClocksAreHeldToTheMedian(t *testing.T) {
	rs := []clockReading{
		{host: "proxy", offset: 10 * time.Millisecond, ok: true},
		{host: "t58", offset: 0, ok: true},
		{host: "t68", offset: 9 * time.Second, ok: true},
		{host: "t78"}, // not read: an earlier check failed
	}
	res := compareClocks(rs, DefaultMaxClockSkew)
	if len(res) != 3 {
		t.Fatalf("%d results, want 3 (t78 unread): %+v", len(res), res)
	}
	for _, r := range res {
		if (r.Status == StatusFailed) != (r.Host == "t68") {
			t.Errorf("%s: %s %q; only t68 is off", r.Host, r.Status, r.Found)
		}
	}
	if res[2].Found == "" || !strings.Contains(res[2].Found, "ahead of the other hosts") {
		t.Errorf("t68: %q", res[2].Found)
	}
}

// An unreachable host fails connect and nothing else is tried on it; a
// reachable host is checked in full.
func TestUnreachableHostStopsItsChecks(t *testing.T) {
	dead := engine.UnreachableHost("t68", errors.New("ssh: handshake failed: knownhosts: key mismatch"))
	rep := Run(context.Background(), []*engine.Host{dead}, func(*engine.Host) (Needs, error) { return Needs{}, nil }, Options{})
	if len(rep.Results) != len(Checks)-1 {
		t.Fatalf("%d results: %+v", len(rep.Results), rep.Results)
	}
	if r := rep.Results[0]; r.Check != CheckConnect || r.Status != StatusFailed || !strings.Contains(r.Found, "key mismatch") {
		t.Fatalf("connect: %+v", r)
	}
	for _, r := range rep.Results[1:] {
		if r.Status != StatusSkipped {
			t.Errorf("%s after a failed connect: %s", r.Check, r.Status)
		}
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "nothing was changed on any host") {
		t.Fatalf("report error: %v", err)
	}
	var b strings.Builder
	rep.WriteTable(&b)
	if !strings.Contains(b.String(), "t68   connect") || !strings.Contains(b.String(), "known_hosts") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestSkipNamesMustBeChecks(t *testing.T) {
	if _, err := ValidateSkip([]string{"ports", "dsik"}); err == nil || !strings.Contains(err.Error(), `"dsik": no such check`) {
		t.Fatalf("a typo: %v", err)
	}
	skip, err := ValidateSkip([]string{"address"})
	if err != nil || !skip[CheckAddress] {
		t.Fatal(skip, err)
	}
	c := localCheck(t)
	c.opts.Skip = skip
	c.do(CheckAddress, func() (string, string, error) { t.Fatal("a skipped check ran"); return "", "", nil })
	if r := c.results[0]; r.Status != StatusSkipped || r.Found != "--skip-preflight address" {
		t.Fatalf("%+v", r)
	}
}

// The OS table: what is supported, what is refused and why.
func TestSupportedReleases(t *testing.T) {
	for _, tc := range []struct {
		osRelease string
		ok        bool
	}{
		{"ID=debian\nVERSION_ID=\"12\"", true},
		{"ID=debian\nVERSION_ID=\"10\"", false},
		{"ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"", true},
		{"ID=rocky\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"", true},
		{"ID=almalinux\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.9\"", true},
		{"ID=centos\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"", false},
		{"ID=fedora\nVERSION_ID=40", false},
		{"ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.3\"", false},
		{"ID=alpine\nVERSION_ID=3.19.1", false},
	} {
		f := engine.ParseOSRelease([]byte(tc.osRelease))
		if err := f.Supported(); (err == nil) != tc.ok {
			t.Errorf("%q: supported=%v (%v), want %v", tc.osRelease, err == nil, err, tc.ok)
		}
	}
}

// A login that works but whose sudo wants a password is a sudo failure,
// not an unreachable host: the fix named is the sudoers rule.
func TestRootRefusedIsASudoFailure(t *testing.T) {
	dead := engine.UnreachableHost("t58", fmt.Errorf("t58: user ops needs passwordless sudo on host t58 (sudo -n said: sudo: a password is required): %w", remote.ErrNoRoot))
	rep := Run(context.Background(), []*engine.Host{dead}, func(*engine.Host) (Needs, error) { return Needs{}, nil }, Options{})
	got := map[string]Result{}
	for _, r := range rep.Results {
		if _, dup := got[r.Check]; dup {
			t.Errorf("%s reported twice", r.Check)
		}
		got[r.Check] = r
	}
	if got[CheckConnect].Status != StatusOK {
		t.Errorf("connect: %+v", got[CheckConnect])
	}
	if s := got[CheckSudo]; s.Status != StatusFailed || !strings.Contains(s.Found, "a password is required") || !strings.Contains(s.Fix, "NOPASSWD") {
		t.Errorf("sudo: %+v", s)
	}
}

// The heap and memcached's cache, with the reserve, must fit the host's
// memory (this machine's /proc/meminfo: the host here).
func TestMemoryMustHoldTheHeapAndTheCache(t *testing.T) {
	c := localCheck(t)
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Skip("no /proc/meminfo here")
	}
	var kb int64
	fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
	total := kb << 10
	fits := total - int64(ReserveMB)<<20 - 64<<20
	found, _, err := c.memory([]Memory{{What: "heap", Bytes: fits}, {What: "cache", Bytes: 64 << 20}})
	if err != nil || !strings.Contains(found, "heap") {
		t.Fatalf("a heap that leaves exactly the reserve: %q, %v", found, err)
	}
	_, fix, err := c.memory([]Memory{{What: "Tomcat's heap", Bytes: fits + 1<<20}, {What: "memcached's cache", Bytes: 64 << 20}})
	if err == nil || !strings.Contains(err.Error(), "Tomcat's heap") || !strings.Contains(err.Error(), "memcached's cache") || !strings.Contains(fix, "tomcat.heap_mb") {
		t.Fatalf("a heap 1 MiB too large: %v (fix %q)", err, fix)
	}
}

// A host whose facts are not read yet is checked in two commands: one
// batch that holds the facts' read and every check's (those that differ
// by family declared for each family), and the clock, timed on its own.
func TestAFreshHostIsCheckedInOneBatchAndTheClock(t *testing.T) {
	if _, err := os.Stat(engine.OSReleasePath); err != nil {
		t.Skipf("no %s on this machine: the facts cannot be read", engine.OSReleasePath)
	}
	under := &enginetest.LocalConn{Name: "local"}
	h := engine.NewHost(probe.Wrap(under), nil)
	needs := func(h *engine.Host) (Needs, error) {
		return Needs{Address: "127.0.0.1", Conflicts: []Conflict{{Package: "no-such-package-e2e", Why: "test"}}, Memory: []Memory{{What: "cache", Bytes: 1 << 20}}}, nil
	}
	rep := Run(context.Background(), []*engine.Host{h}, needs, Options{})
	for _, r := range rep.Results {
		if r.Status == StatusFailed && r.Check != CheckSudo && r.Check != CheckSystemd && r.Check != CheckPackageLock {
			t.Errorf("%s failed: %s", r.Check, r.Found)
		}
	}
	if !h.Facts.Gathered() {
		t.Fatal("the facts were not read")
	}
	cmds := under.Commands() // the clock runs beside the batch: either first
	if len(cmds) == 2 && cmds[0] == "date +%s%N" {
		cmds[0], cmds[1] = cmds[1], cmds[0]
	}
	if len(cmds) != 2 || cmds[1] != "date +%s%N" || !strings.Contains(cmds[0], engine.OSReleasePath) {
		t.Fatalf("%d commands on the host, want the batch (with the facts) and the clock:\n%q", len(cmds), cmds)
	}
}

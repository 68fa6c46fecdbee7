package playbooks

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/artifacts/artifactstest"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// pristineConn is a remote.Conn for a host that has nothing yet: every
// query answers "absent" (no files, packages missing, units inactive, no
// user, guards fail), every change succeeds and is recorded. Running the
// plays against it shows the exact commands and files apply would produce
// on a fresh host of a given family.
type pristineConn struct {
	name string
	// filtering: firewalld runs and SELinux is enforcing, as on a stock
	// RHEL-family install, so their guards report "not yet".
	filtering bool
	// ufw: ufw is active (an Ubuntu host whose admin enabled it).
	ufw bool
	// javaBin is the bin/java a Java package installs; jvmLinks are the
	// links in /usr/lib/jvm that lead to its home.
	javaBin  string
	jvmLinks []string

	mu      sync.Mutex
	cmds    []string
	writes  map[string][]byte
	uploads map[string]string // remote path -> local path
}

func newPristine(name string) *pristineConn {
	return &pristineConn{name: name, writes: map[string][]byte{}, uploads: map[string]string{}}
}

func (c *pristineConn) Host() string { return c.name }
func (c *pristineConn) Close() error { return nil }

func (c *pristineConn) Run(_ context.Context, cmd string) (remote.Result, error) {
	c.mu.Lock()
	c.cmds = append(c.cmds, cmd)
	c.mu.Unlock()
	switch {
	case cmd == filtersProbe:
		var out string
		if c.filtering {
			out = "firewalld\nselinux\n"
		}
		if c.ufw {
			out += "ufw\n"
		}
		return remote.Result{Stdout: out}, nil
	case c.filtering && (strings.HasPrefix(cmd, "! "+firewalldActive) || strings.HasPrefix(cmd, "! selinuxenabled")):
		return remote.Result{ExitCode: 1}, nil
	case c.ufw && strings.HasPrefix(cmd, "! { "+ufwActive):
		return remote.Result{ExitCode: 1}, nil
	case strings.HasPrefix(cmd, "for p in "): // package query
		var out strings.Builder
		for _, w := range strings.Fields(strings.TrimPrefix(cmd, "for p in "))[0:] {
			if w == ";" || w == "do" || strings.HasSuffix(w, ";") {
				out.WriteString(strings.Trim(strings.TrimSuffix(w, ";"), "'") + " missing\n")
				break
			}
			out.WriteString(strings.Trim(w, "'") + " missing\n")
		}
		return remote.Result{Stdout: out.String()}, nil
	case strings.HasPrefix(cmd, "deps() {"): // engine.PackageFilesCmd
		return remote.Result{Stdout: c.javaBin + "\n"}, nil
	case strings.Contains(cmd, "for l in /usr/lib/jvm/*"): // the links to a Java home
		home := strings.TrimSuffix(c.javaBin, "/bin/java")
		return remote.Result{Stdout: strings.Join(append(c.jvmLinks, "home ", "want "+home), "\n") + "\n"}, nil
	case strings.HasPrefix(cmd, "systemctl is-active"):
		return remote.Result{Stdout: "inactive\n", ExitCode: 3}, nil
	case strings.HasPrefix(cmd, "systemctl is-enabled"):
		return remote.Result{Stdout: "disabled\n", ExitCode: 1}, nil
	case strings.HasPrefix(cmd, "getent passwd"):
		return remote.Result{ExitCode: 2}, nil
	case strings.HasPrefix(cmd, "test "):
		return remote.Result{ExitCode: 1}, nil
	case strings.HasPrefix(cmd, "if [ -f ") && strings.Contains(cmd, "echo present && cat"): // engine's Host.ReadFile
		p, _, _ := strings.Cut(strings.TrimPrefix(cmd, "if [ -f "), " ]")
		if b, ok, _ := c.ReadFile(context.Background(), strings.Trim(p, "'")); ok {
			return remote.Result{Stdout: "present\n" + string(b)}, nil
		}
		return remote.Result{Stdout: "absent\n"}, nil
	}
	return remote.Result{}, nil // stat of a missing path prints nothing
}

// ReadFile reads back what a run wrote (a pristine host has nothing else).
func (c *pristineConn) ReadFile(_ context.Context, p string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.writes[p]
	return b, ok, nil
}

func (c *pristineConn) WriteFile(_ context.Context, p string, data []byte, _ remote.FileMeta) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes[p] = data
	return nil
}

func (c *pristineConn) Upload(_ context.Context, local, p string, _ remote.FileMeta) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uploads[p] = local
	return true, nil
}

// commands returns the recorded commands that contain any of subs.
func (c *pristineConn) commands(subs ...string) []string {
	var out []string
	for _, cmd := range c.cmds {
		for _, s := range subs {
			if strings.Contains(cmd, s) {
				out = append(out, cmd)
				break
			}
		}
	}
	return out
}

// osRelease files of the families the plays support.
const (
	debian12 = "ID=debian\nVERSION_ID=\"12\"\n"
	rocky9   = "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n"
	ubuntu22 = "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n"
	centos7  = "ID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n"
)

// labArtifacts fills a temp artifacts dir as the shipped inventory expects
// (JDK 8 tarball, Tomcat 8.5.78 with its .sha512, MSM 2.3.2 tc8 jars) and
// returns the shipped inventory pointing at it, after edits.
func labArtifacts(t *testing.T, edits ...string) *inventory.Inventory {
	t.Helper()
	dir := t.TempDir()
	artifactstest.WriteTarGz(t, filepath.Join(dir, "jdk-8u291-linux-x64.tar.gz"), "jdk1.8.0_291")
	tc := filepath.Join(dir, "apache-tomcat-8.5.78.tar.gz")
	artifactstest.WriteTarGz(t, tc, "apache-tomcat-8.5.78")
	b, _ := os.ReadFile(tc)
	sum := sha512.Sum512(b)
	os.WriteFile(tc+".sha512", []byte(hex.EncodeToString(sum[:])+" *apache-tomcat-8.5.78.tar.gz\n"), 0o644)
	for _, j := range []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc8-2.3.2.jar", "spymemcached-2.12.3.jar"} {
		os.WriteFile(filepath.Join(dir, j), []byte(j), 0o644)
	}
	// Never reach a real repository from a unit test.
	t.Setenv("CLUSTERCTL_MAVEN_CACHE", t.TempDir())
	return loadInventory(t, append([]string{"dir: ./artifacts", "dir: " + dir,
		"maven_repo: https://repo1.maven.org/maven2", "maven_repo: http://127.0.0.1:1/unused"}, edits...)...)
}

// applyTo runs apply's plays on pristine fake hosts of one family and
// returns each host's connection and the run's recap.
func applyTo(t *testing.T, inv *inventory.Inventory, osRelease string) (map[string]*pristineConn, engine.Recap, *engine.Collector) {
	t.Helper()
	conns, recap, col := applyToTolerant(t, inv, osRelease)
	for _, e := range col.Events() {
		if e.Err != nil {
			t.Errorf("%s: %s/%s: %v", e.Host, e.Play, e.Step, e.Err)
		}
	}
	return conns, recap, col
}

// applyToTolerant is applyTo for runs that are expected to fail.
func applyToTolerant(t *testing.T, inv *inventory.Inventory, osRelease string) (map[string]*pristineConn, engine.Recap, *engine.Collector) {
	t.Helper()
	c, err := NewCluster(inv)
	if err != nil {
		t.Fatal(err)
	}
	conns := map[string]*pristineConn{}
	var hosts []*engine.Host
	for _, ih := range inv.AllHosts() {
		pc := newPristine(ih.Name)
		conns[ih.Name] = pc
		h := engine.NewHost(pc, nil)
		h.Facts = engine.ParseOSRelease([]byte(osRelease))
		pc.filtering = h.Facts.Family == engine.FamilyRHEL
		pc.ufw = h.Facts.ID == "ubuntu"
		pc.javaBin = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
		if pc.filtering {
			pc.javaBin = "/usr/lib/jvm/java-17-openjdk-17.0.9.0.9-2.el9.x86_64/bin/java"
			pc.jvmLinks = []string{"/usr/lib/jvm/jre", "/usr/lib/jvm/jre-17", "/usr/lib/jvm/jre-17-openjdk", "/usr/lib/jvm/jre-openjdk"}
		}
		hosts = append(hosts, h)
	}
	col := &engine.Collector{}
	recap := engine.Run(context.Background(), hosts, c.Apply(), engine.Options{}, col)
	return conns, recap, col
}

package artifacts

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// prepared runs Prepare once per test binary (into a shared temp dir); the
// build itself is cached across runs in CacheDir().
var (
	prepOnce sync.Once
	prepDir  string
	prepM    Manifest
	prepErr  error
)

// TestMain removes the shared artifacts dir (~80 MB) after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if prepDir != "" {
		os.RemoveAll(prepDir)
	}
	os.Exit(code)
}

func prepared(t *testing.T) Manifest {
	t.Helper()
	prepOnce.Do(func() {
		var err error
		if prepDir, err = os.MkdirTemp("", "clusterctl-artifacts-test-"); err != nil {
			prepErr = err
			return
		}
		start := time.Now()
		prepM, prepErr = Prepare(context.Background(), prepDir, nil)
		fmt.Printf("Prepare (first in this test run) took %v\n", time.Since(start).Round(time.Millisecond))
	})
	if prepErr != nil {
		t.Fatalf("Prepare: %v (needs: apt-get install %s)", prepErr, strings.Join(AptPackages, " "))
	}
	return prepM
}

// untar unpacks a .tar.gz into dir, refusing entries that escape it.
func untar(t *testing.T, file, dir string) {
	t.Helper()
	eachTarEntry(t, file, func(h *tar.Header, tr io.Reader) {
		p := filepath.Join(dir, h.Name)
		if !strings.HasPrefix(p, filepath.Clean(dir)+string(os.PathSeparator)) {
			t.Fatalf("tar entry %q escapes the target", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			// Owner gets rwx bits as stored plus read/write, so the test can clean up.
			w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)|0o600)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, tr); err != nil {
				t.Fatal(err)
			}
			w.Close()
		default:
			t.Fatalf("unexpected tar entry type %c for %s", h.Typeflag, h.Name)
		}
	})
}

// eachTarEntry calls fn for every entry of a .tar.gz, with a reader of the
// entry's content.
func eachTarEntry(t *testing.T, file string, fn func(h *tar.Header, content io.Reader)) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(h, tr)
	}
}

// freePort asks the kernel for a free 127.0.0.1 port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until something accepts on 127.0.0.1:port.
func waitPort(port int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on 127.0.0.1:%d after %v", port, d)
}

// memcachedProc is a memcached child process on 127.0.0.1.
type memcachedProc struct {
	port int
	cmd  *exec.Cmd
}

func startMemcached(t *testing.T) *memcachedProc {
	t.Helper()
	bin, err := exec.LookPath("memcached")
	if err != nil {
		t.Fatalf("memcached is not installed (apt-get install memcached): %v", err)
	}
	port := freePort(t)
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "16", "-t", "1"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // memcached refuses root without -u
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m := &memcachedProc{port: port, cmd: cmd}
	t.Cleanup(m.kill)
	if err := waitPort(port, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *memcachedProc) kill() {
	if m.cmd.ProcessState == nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
}

// mcGet reads key with the memcached text protocol; ok=false on a miss.
func mcGet(t *testing.T, port int, key string) (flags int, value []byte, ok bool) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		t.Fatalf("memcached on port %d: %v", port, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "get %s\r\n", key)
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "END" {
		return 0, nil, false
	}
	var k string
	var n int
	if _, err := fmt.Sscanf(line, "VALUE %s %d %d", &k, &flags, &n); err != nil {
		t.Fatalf("unexpected memcached reply %q", line)
	}
	value = make([]byte, n+2)
	if _, err := io.ReadFull(r, value); err != nil {
		t.Fatal(err)
	}
	return flags, value[:n], true
}

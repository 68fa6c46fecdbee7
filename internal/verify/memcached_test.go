package verify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startMemcached runs a real memcached on a free loopback port for the
// test and returns its address.
func startMemcached(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("memcached")
	if err != nil {
		t.Skip("memcached not installed (scripts/install-deps.sh installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"-l", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "0", "-m", "8"}
	cmd := exec.Command(bin, append(args, "-u", "nobody")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("memcached on %s did not come up", addr)
		}
	}
}

// mcSet stores a value with the raw protocol (verify itself only reads).
func mcSet(t *testing.T, addr, key string, flags int, value []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "set %s %d 0 %d\r\n%s\r\n", key, flags, len(value), value)
	line, _ := bufio.NewReader(c).ReadString('\n')
	if line != "STORED\r\n" {
		t.Fatalf("set %s: %q", key, line)
	}
}

func dialMC(t *testing.T, addr string) *Memcache {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMemcache(c)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemcacheAgainstRealMemcached(t *testing.T) {
	addr := startMemcached(t)
	id := hexA + "-n2.t58"
	// A value that contains the protocol's own terminators must come back whole.
	value := []byte("\x00\x02header\r\nEND\r\n" + id + "\xff")
	mcSet(t, addr, id, 0, value)
	mcSet(t, addr, "flagged", 42, []byte("x"))

	m := dialMC(t, addr)
	ctx := ctxT(t)
	v, err := m.Version(ctx)
	if err != nil || !strings.HasPrefix(v, "1.") {
		t.Fatalf("Version = %q, %v", v, err)
	}
	got, flags, found, err := m.Get(ctx, id)
	if err != nil || !found || flags != 0 || string(got) != string(value) {
		t.Fatalf("Get(%s) = %q %d %v %v", id, got, flags, found, err)
	}
	if _, flags, found, err := m.Get(ctx, "flagged"); err != nil || !found || flags != 42 {
		t.Fatalf("Get(flagged) = %d %v %v", flags, found, err)
	}
	// The same connection keeps working after a miss.
	if _, _, found, err := m.Get(ctx, hexA+"-n1.t58"); err != nil || found {
		t.Fatalf("Get(missing) = %v %v", found, err)
	}
	if _, err := m.Version(ctx); err != nil {
		t.Fatalf("Version after a miss: %v", err)
	}
}

func TestMemcacheRefusesBadKeys(t *testing.T) {
	addr := startMemcached(t)
	m := dialMC(t, addr)
	for _, k := range []string{"", "a b", "a\r\nflush_all", strings.Repeat("k", 251)} {
		if _, _, _, err := m.Get(ctxT(t), k); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	// Nothing was sent: the connection is still in step.
	if _, err := m.Version(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// A peer that accepts and never answers (a hung tunnel) must not hang the
// caller past its context.
func TestMemcacheBoundedByContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	m := dialMC(t, l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = m.Version(ctx)
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || time.Since(start) > 2*time.Second {
		t.Fatalf("Version on a silent peer: %v after %s", err, time.Since(start))
	}
}

// Something else on the port (an HTTP server, say) is reported, not hung on.
func TestMemcacheUnexpectedReply(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
			c.Close()
		}
	}()
	_, err := dialMC(t, l.Addr().String()).Version(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), `unexpected reply "HTTP/1.1 400 Bad Request"`) {
		t.Fatalf("err = %v", err)
	}
}

package memcache

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/memcache/memcachetest"
)

func dialMC(t *testing.T, addr string) *Memcache {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := New(c)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemcacheAgainstRealMemcached(t *testing.T) {
	addr := memcachetest.Start(t)
	id := "6A1F0C2B9D8E7F6A5B4C3D2E1F0A9B8C" + "-n2.t58"
	// A value that contains the protocol's own terminators must come back whole.
	value := []byte("\x00\x02header\r\nEND\r\n" + id + "\xff")
	memcachetest.Set(t, addr, id, 0, value)
	memcachetest.Set(t, addr, "flagged", 42, []byte("x"))

	m := dialMC(t, addr)
	ctx := context.Background()
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
	if _, _, found, err := m.Get(ctx, "6A1F0C2B9D8E7F6A5B4C3D2E1F0A9B8C"+"-n1.t58"); err != nil || found {
		t.Fatalf("Get(missing) = %v %v", found, err)
	}
	if _, err := m.Version(ctx); err != nil {
		t.Fatalf("Version after a miss: %v", err)
	}
}

func TestMemcacheRefusesBadKeys(t *testing.T) {
	addr := memcachetest.Start(t)
	m := dialMC(t, addr)
	for _, k := range []string{"", "a b", "a\r\nflush_all", strings.Repeat("k", 251)} {
		if _, _, _, err := m.Get(context.Background(), k); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	// Nothing was sent: the connection is still in step.
	if _, err := m.Version(context.Background()); err != nil {
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
	_, err := dialMC(t, l.Addr().String()).Version(context.Background())
	if err == nil || !strings.Contains(err.Error(), `unexpected reply "HTTP/1.1 400 Bad Request"`) {
		t.Fatalf("err = %v", err)
	}
}

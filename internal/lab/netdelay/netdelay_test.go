package netdelay

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// echoServer answers every connection with what it reads, then closes
// its side once the client has half-closed.
func echoServer(t *testing.T) string {
	t.Helper()
	return sshtest.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		defer c.Close()
		io.Copy(c, c)
	})
}

func startRelay(t *testing.T, target string, oneWay time.Duration) *Relay {
	t.Helper()
	r, err := Start(target, oneWay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// An exchange through the relay takes at least a round trip (both
// delays), and so does the connection's first answer.
func TestEachExchangeTakesARoundTrip(t *testing.T) {
	const oneWay = 40 * time.Millisecond
	r := startRelay(t, echoServer(t), oneWay)
	start := time.Now()
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 4)
	for i := 0; i < 3; i++ {
		sent := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if string(buf) != "ping" {
			t.Fatalf("echo %q", buf)
		}
		// The first exchange also waits for the relayed connect (one way).
		want := 2 * oneWay
		if i == 0 {
			want = 3 * oneWay
			if d := time.Since(start); d < want {
				t.Fatalf("first answer after %s, want at least %s", d, want)
			}
			continue
		}
		if d := time.Since(sent); d < want {
			t.Fatalf("exchange %d took %s, want at least %s (the delay in each direction)", i, d, want)
		}
	}
}

// A transfer far larger than one read arrives whole and in order, and the
// client's half-close reaches the server (the echo then ends).
func TestBytesArriveWholeAndInOrder(t *testing.T) {
	r := startRelay(t, echoServer(t), 5*time.Millisecond)
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := make([]byte, 3<<20)
	rand.Read(data)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		c.(*net.TCPConn).CloseWrite()
		errc <- err
	}()
	got, err := io.ReadAll(c) // ends only if the half-close went through
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("echoed %d bytes, sent %d; equal %v", len(got), len(data), bytes.Equal(got, data))
	}
}

func TestRefusesTargetsOffTheLab(t *testing.T) {
	for _, target := range []string{"192.168.250.58:22", "10.250.1.58:22", "8.8.8.8:53", "t58:22"} {
		if r, err := Start(target, 0); err == nil {
			r.Close()
			t.Errorf("Start(%q) relays; want refused", target)
		}
	}
	for _, target := range []string{"10.250.0.58:22", "127.0.0.1:22", "[::1]:22"} {
		r, err := Start(target, 0)
		if err != nil {
			t.Errorf("Start(%q): %v", target, err)
			continue
		}
		if !r.Addr().IP.IsLoopback() {
			t.Errorf("relay for %s listens on %s, want loopback", target, r.Addr())
		}
		r.Close()
	}
}

// Close cuts the connections it relays: a benchmark's relay does not
// outlive it.
func TestCloseCutsRelayedConnections(t *testing.T) {
	r, err := Start(echoServer(t), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	buf := make([]byte, 1)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	r.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("read after Close: %v; want the connection cut", err)
	}
}

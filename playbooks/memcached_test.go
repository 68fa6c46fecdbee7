package playbooks

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// fakeMemcached serves reply to every connection on 127.0.0.1 and returns
// its port: after the client's "quit", or, with atOnce, before reading
// anything, as memcached turns a client away with "ERROR Too many open
// connections".
func fakeMemcached(t *testing.T, reply string, atOnce bool) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if !atOnce {
					sc := bufio.NewScanner(c)
					for sc.Scan() && sc.Text() != "quit" {
					}
				}
				c.Write([]byte(reply))
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort is a port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// The restart-now condition holds only on a positive "empty": anything it
// cannot read must leave the restart to the rollout.
func TestMemcachedEmptyHoldsOnlyWhenItSaysSo(t *testing.T) {
	for _, tool := range []string{"bash", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: no %s to run the condition with", tool)
		}
	}
	stats := func(items int) string {
		return fmt.Sprintf("STAT pid 812\r\nSTAT curr_connections 2\r\nSTAT curr_items %d\r\nSTAT total_items 40\r\nEND\r\n", items)
	}
	at := func(port int) string { return fmt.Sprintf("echo 127.0.0.1:%d", port) }
	for _, tc := range []struct {
		name      string
		listening func(port int) string
		port      int
		holds     bool
	}{
		{"curr_items 0", at, fakeMemcached(t, stats(0), false), true},
		{"curr_items 3", at, fakeMemcached(t, stats(3), false), false},
		{"curr_items 10", at, fakeMemcached(t, stats(10), false), false},
		{"too many connections", at, fakeMemcached(t, "ERROR Too many open connections\r\n", true), false},
		{"nothing listening", at, closedPort(t), false},
		{"no listening address found", func(int) string { return "true" }, fakeMemcached(t, stats(0), false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cond := memcachedEmptyVia(tc.listening(tc.port), tc.port)
			err := exec.Command("sh", "-c", "{ "+cond+"; } >/dev/null 2>&1").Run()
			if holds := err == nil; holds != tc.holds {
				t.Fatalf("condition holds %v (%v), want %v:\n%s", holds, err, tc.holds, cond)
			}
		})
	}
	// The host's own condition asks ss for the address of the port it asks.
	cond := memcachedEmpty(11211)
	for _, want := range []string{`ss -Hltn "sport = :11211"`, "/dev/tcp/$a/11211"} {
		if !strings.Contains(cond, want) {
			t.Errorf("memcachedEmpty(11211) lacks %s:\n%s", want, cond)
		}
	}
}

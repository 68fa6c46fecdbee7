// Package memcachetest runs a real memcached on loopback for tests.
package memcachetest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"
)

// Start runs a real memcached on a free loopback port for the test (killed
// at its end) and returns its address; without memcached installed the
// test is skipped, saying why.
func Start(t testing.TB) string {
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

// Set stores a value with the raw protocol, as MSM would.
func Set(t testing.TB, addr, key string, flags int, value []byte) {
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

package sshtest

import (
	"bufio"
	"io"
	"net"
	"testing"
)

// EchoServer listens on a loopback port and answers each line it reads
// with "echo: <line>"; it is a forwarding target for tunnel tests. It
// returns the address and stops when the test ends.
func EchoServer(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					io.WriteString(c, "echo: "+sc.Text()+"\n")
				}
			}()
		}
	}()
	return l.Addr().String()
}

package sshtest

import (
	"bufio"
	"io"
	"net"
	"testing"
)

// Serve listens on addr ("127.0.0.1:0" for any loopback port) and hands
// each connection to handle, which owns it; it returns the address and
// stops when the test ends.
func Serve(tb testing.TB, addr string, handle func(net.Conn)) string {
	tb.Helper()
	l, err := net.Listen("tcp", addr)
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
			go handle(c)
		}
	}()
	return l.Addr().String()
}

// EchoServer listens on a loopback port and answers each line it reads
// with "echo: <line>"; it is a forwarding target for tunnel tests. It
// returns the address and stops when the test ends.
func EchoServer(tb testing.TB) string {
	tb.Helper()
	return Serve(tb, "127.0.0.1:0", func(c net.Conn) {
		defer c.Close()
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			io.WriteString(c, "echo: "+sc.Text()+"\n")
		}
	})
}

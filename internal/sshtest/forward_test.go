package sshtest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestDirectTCPIPForwardsToLoopback(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	c := mustDial(t, s, ssh.PublicKeys(k.Signer))
	target := EchoServer(t)

	conn, err := c.Dial("tcp", target)
	if err != nil {
		t.Fatalf("Dial through the server: %v", err)
	}
	defer conn.Close()
	io.WriteString(conn, "hello\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "echo: hello\n" {
		t.Fatalf("read %q, %v", line, err)
	}
	if f := s.Forwards(); len(f) != 1 || f[0] != target {
		t.Fatalf("Forwards = %v, want [%s]", f, target)
	}
}

func TestDirectTCPIPRefusals(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	c := mustDial(t, s, ssh.PublicKeys(k.Signer))

	// Nothing listens: OpenSSH's wording and reason code.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	_, err := c.Dial("tcp", closed)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.ConnectionFailed || oce.Message != "connect failed: Connection refused" {
		t.Fatalf("closed port: %v, want ConnectionFailed \"connect failed: Connection refused\"", err)
	}
	// Never beyond loopback.
	if _, err := c.Dial("tcp", "192.0.2.1:80"); !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
		t.Fatalf("non-loopback target: %v, want Prohibited", err)
	}

	off := Start(t, WithAuthorizedKey(k.Public), WithoutTCPForwarding())
	c2 := mustDial(t, off, ssh.PublicKeys(k.Signer))
	if _, err := c2.Dial("tcp", EchoServer(t)); !errors.As(err, &oce) || oce.Reason != ssh.Prohibited || !strings.Contains(oce.Message, "open failed") {
		t.Fatalf("forwarding off: %v, want Prohibited", err)
	}
}

package transport

import (
	"bufio"
	"io"
	"net"
	"testing"

	"github.com/clusterctl/clusterctl/internal/sshtest"
)

func TestDialTCPGoesThroughTheServer(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	target := sshtest.EchoServer(t)
	nc, err := c.DialTCP(ctxT(t), target)
	if err != nil {
		t.Fatalf("DialTCP: %v", err)
	}
	defer nc.Close()
	io.WriteString(nc, "ping\n")
	if got, err := bufio.NewReader(nc).ReadString('\n'); got != "echo: ping\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	// The server, not this process, made the connection.
	if fw := f.srv.Forwards(); len(fw) != 1 || fw[0] != target {
		t.Fatalf("server forwards = %v, want [%s]", fw, target)
	}
}

func TestDialTCPRefusedIsOneActionableLine(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	_, err := c.DialTCP(ctxT(t), closed)
	wantErr(t, err, "t58: tunnel to "+closed+": connection refused")
}

func TestDialTCPForwardingDisabled(t *testing.T) {
	f := newFixture(t, sshtest.WithoutTCPForwarding())
	c := dialT(t, f.cfg)
	_, err := c.DialTCP(ctxT(t), sshtest.EchoServer(t))
	wantErr(t, err, "refuses TCP forwarding", "AllowTcpForwarding")
}

// A dropped connection is redialled once, as for Run.
func TestDialTCPRedialsAfterDrop(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	target := sshtest.EchoServer(t)
	f.srv.DropConnections()
	waitFor(t, "connection to drop", func() bool { return f.srv.ConnCount() == 0 })
	nc, err := c.DialTCP(ctxT(t), target)
	if err != nil {
		t.Fatalf("DialTCP after drop: %v", err)
	}
	nc.Close()
}

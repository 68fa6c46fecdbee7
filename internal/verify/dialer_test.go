package verify

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// blackhole never answers, like a firewall dropping SYNs, until ctx ends.
type blackhole struct{}

func (blackhole) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestConnectGivesUpOnADropAndSaysSo(t *testing.T) {
	start := time.Now()
	_, err := connect(context.Background(), blackhole{}, "10.0.0.1:11211", 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(reachHint(err, "t58", "x"), "a firewall on t58") {
		t.Errorf("a drop must point at the firewall: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

// The connect timeout bounds the connect only: a tunnel opened through the
// real SSH transport stays usable after it has passed.
func TestConnectTimeoutDoesNotCloseAnOpenTunnel(t *testing.T) {
	c, _ := sshClient(t, "t58")
	echo := sshtest.EchoServer(t)
	nc, err := connect(ctxT(t), c, echo, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	time.Sleep(400 * time.Millisecond) // past the connect timeout
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte("ping\n")); err != nil {
		t.Fatalf("write after the connect timeout: %v", err)
	}
	buf := make([]byte, len("echo: ping\n"))
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "echo: ping\n" {
		t.Fatalf("echo after the connect timeout: %q %v", buf, err)
	}
}

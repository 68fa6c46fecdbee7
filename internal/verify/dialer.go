package verify

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// TCPDialer opens a TCP connection from a remote host (an SSH direct-tcpip
// tunnel). transport.Client implements it; remote.Conn stays unchanged
// because only verify needs tunnels.
type TCPDialer interface {
	DialTCP(ctx context.Context, addr string) (net.Conn, error)
}

// errNoTunnel is the reason given when a connection cannot open tunnels.
const errNoTunnel = "this connection cannot open TCP tunnels"

// dialerOf returns c's TCPDialer, or nil.
func dialerOf(c remote.Conn) TCPDialer {
	d, _ := c.(TCPDialer)
	return d
}

// connect opens a tunnel to addr from d's host, giving up after timeout
// (0: only ctx bounds it). The timeout bounds the connect alone: an open
// connection lives on under ctx.
func connect(ctx context.Context, d TCPDialer, addr string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		return d.DialTCP(ctx, addr)
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := d.DialTCP(dctx, addr)
	if err != nil && dctx.Err() != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("%w (no answer within %s: dropped?)", err, timeout)
	}
	return nc, err
}

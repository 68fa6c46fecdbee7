package verify

import (
	"context"
	"net"

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

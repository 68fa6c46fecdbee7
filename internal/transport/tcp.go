package transport

import (
	"context"
	"errors"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
)

// DialTCP opens a TCP connection to addr ("host:port") FROM the remote
// host, through this SSH connection (a direct-tcpip channel, what `ssh -L`
// uses). verify reaches memcached, Tomcat and nginx this way, so it sees
// what the hosts see: a memcached bound to 127.0.0.1 is refused when
// another host's connection dials its cluster address, and the operator's
// machine needs no route to the cluster.
//
// The returned conn does not support deadlines (SSH channels cannot time
// out a read): bound its use with a context that closes it. Like Run, a
// dial that fails because the connection had dropped is retried once on a
// fresh connection; nothing was sent yet, so the retry is safe.
func (c *Client) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	for attempt := 0; ; attempt++ {
		cn, err := c.current(ctx)
		if err != nil {
			return nil, err
		}
		nc, err := cn.ssh.DialContext(ctx, "tcp", addr)
		if err == nil {
			return nc, nil
		}
		if attempt == 0 && ctx.Err() == nil && c.lost(cn, err) {
			if _, rerr := c.redial(ctx, cn); rerr != nil {
				return nil, rerr
			}
			continue
		}
		return nil, c.errorf(err, "tunnel to %s: %s", addr, tunnelReason(ctx, err))
	}
}

// tunnelReason turns the server's refusal into what an operator acts on.
// OpenSSH answers a direct-tcpip it could not connect with
// "connect failed: Connection refused" (ConnectionFailed), and one its
// configuration forbids (AllowTcpForwarding no) with Prohibited.
func tunnelReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return ctx.Err().Error()
	}
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		msg := strings.TrimSpace(oce.Message)
		switch oce.Reason {
		case ssh.Prohibited:
			return "the SSH server refuses TCP forwarding (" + msg + "); allow it for this user (AllowTcpForwarding in sshd_config)"
		case ssh.ConnectionFailed:
			// "connect failed: Connection refused" -> "connection refused"
			msg = strings.TrimPrefix(strings.TrimPrefix(msg, "open failed: "), "connect failed: ")
			return strings.ToLower(msg[:min(1, len(msg))]) + msg[min(1, len(msg)):]
		}
		return msg
	}
	return err.Error()
}

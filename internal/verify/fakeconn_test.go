package verify

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/topology"
)

func nodeAt(host string, port int) topology.Node {
	return topology.Node{ID: "n2", Host: "t68", Address: host, Port: port}
}

// plainConn is a remote.Conn without tunnels.
type plainConn struct{}

func (plainConn) Host() string { return "plain" }
func (plainConn) Run(context.Context, string) (remote.Result, error) {
	return remote.Result{}, errors.New("not used")
}
func (plainConn) ReadFile(context.Context, string) ([]byte, bool, error) { return nil, false, nil }
func (plainConn) WriteFile(context.Context, string, []byte, remote.FileMeta) error {
	return errors.New("verify must not write")
}
func (plainConn) Upload(context.Context, string, string, remote.FileMeta) (bool, error) {
	return false, errors.New("verify must not upload")
}
func (plainConn) Close() error { return nil }

// scriptedConn answers commands by prefix from a table (recorded outputs
// of the real tools) and maps tunnel targets to local addresses, so a whole
// health run can be checked without hosts. Commands it does not know fail
// the test through unknown.
type scriptedConn struct {
	plainConn
	name    string
	answers map[string]remote.Result // command prefix -> result
	files   map[string]string
	tunnels map[string]string // "10.0.0.58:11211" -> "127.0.0.1:port"; absent = refused

	mu      sync.Mutex
	unknown []string
	ran     []string
}

func (c *scriptedConn) Host() string { return c.name }

func (c *scriptedConn) Run(_ context.Context, cmd string) (remote.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ran = append(c.ran, cmd)
	for p, d := range c.files {
		if cmd == probe.ReadCmd(p) {
			return remote.Result{Stdout: "present\n" + d}, nil
		}
	}
	if strings.HasPrefix(cmd, "if [ -f ") && strings.Contains(cmd, "echo present && cat") {
		return remote.Result{Stdout: "absent\n"}, nil
	}
	best := ""
	for p := range c.answers {
		if strings.HasPrefix(cmd, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		c.unknown = append(c.unknown, cmd)
		return remote.Result{ExitCode: 127, Stderr: "sh: not scripted"}, nil
	}
	return c.answers[best], nil
}

// ReadFile is SFTP, which verify does not use: its file reads are
// commands (probe.ReadFile), so they ride in the host's batch.
func (c *scriptedConn) ReadFile(_ context.Context, path string) ([]byte, bool, error) {
	return nil, false, errors.New("verify read " + path + " over SFTP")
}

func (c *scriptedConn) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	to, ok := c.tunnels[addr]
	if !ok {
		return nil, errors.New(c.name + ": tunnel to " + addr + ": connection refused")
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", to)
}

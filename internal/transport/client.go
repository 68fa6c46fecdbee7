package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Client is one host reached over one SSH connection, reused for every
// command and SFTP transfer, and redialled once when it drops.
type Client struct {
	cfg      Config
	creds    *credentials
	sudo     bool
	sudoPass string // sudo's password (sudo -S), when its sudo asks for one

	mu     sync.Mutex
	conn   *conn // nil only after Close
	closed bool

	ownJumps bool // cfg.Jumps was made for this client alone

	sessions atomic.Int64 // session channels opened, over every redial
}

// conn is one SSH connection and what hangs off it.
type conn struct {
	ssh  *ssh.Client
	dead chan struct{} // closed when the transport has ended

	sftpMu sync.Mutex
	sftp   *sftp.Client // opened on first use
	home   string       // the login's SFTP start directory, for staging

	sessions *atomic.Int64 // the Client's count
}

var _ remote.Conn = (*Client)(nil)

// Dial connects and logs in to cfg's host. Zero fields get defaults. For
// a non-root user it also checks that `sudo -n` works, so a missing sudo
// rule fails here with a clear message instead of in the first task.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	c, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if c.sudo {
		if err := c.checkSudo(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// open connects and logs in, without the sudo check: a bastion's login
// only forwards connections.
func open(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	// Until the credentials are loaded, redact the env secrets directly.
	c := &Client{cfg: cfg, sudo: cfg.User != "root", creds: &credentials{secret: envSecrets(cfg)}}
	if err := checkChain(cfg); err != nil {
		return nil, c.errorf(err, "%v", err)
	}
	if cfg.Bastion != nil && cfg.Jumps == nil {
		c.cfg.Jumps, c.ownJumps = NewJumps(), true
	}
	creds, err := loadCredentials(cfg)
	if err != nil {
		c.closeJumps()
		return nil, c.errorf(err, "%v", err)
	}
	c.creds = creds
	if c.sudo && cfg.SudoPasswordEnv != "" {
		if c.sudoPass = os.Getenv(cfg.SudoPasswordEnv); c.sudoPass == "" {
			c.closeJumps()
			return nil, c.errorf(nil, "ssh.sudo_password_env names $%s, which is empty: set it to %s's sudo password", cfg.SudoPasswordEnv, cfg.User)
		}
		creds.secret = append(creds.secret, c.sudoPass)
	}
	cn, err := c.connect(ctx)
	if err != nil {
		c.closeJumps()
		return nil, err
	}
	c.conn = cn
	return c, nil
}

func (c *Client) closeJumps() {
	if c.ownJumps {
		c.cfg.Jumps.Close()
	}
}

// Host is the inventory name.
func (c *Client) Host() string { return c.cfg.Host }

// Sudo reports whether commands and file writes go through `sudo -n`
// (the login user is not root).
func (c *Client) Sudo() bool { return c.sudo }

// Sessions is how many SSH session channels (commands, the SFTP
// subsystem) the client has opened: each costs at least one round trip,
// so it is what a run's latency grows with.
func (c *Client) Sessions() int64 { return c.sessions.Load() }

// Close ends the connection. Later calls fail instead of redialling.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.conn != nil {
		c.conn.close()
	}
	c.closeJumps()
	return nil
}

func (cn *conn) close() {
	cn.sftpMu.Lock()
	if cn.sftp != nil {
		cn.sftp.Close()
	}
	cn.sftpMu.Unlock()
	cn.ssh.Close()
}

// isDead reports whether the connection is gone, without waiting.
func (cn *conn) isDead() bool {
	select {
	case <-cn.dead:
		return true
	default:
		return false
	}
}

// connect dials and handshakes within ConnectTimeout.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	cfg := c.cfg
	addr := cfg.addr()
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()

	var d net.Dialer
	var nc net.Conn
	var err error
	if cfg.Bastion != nil {
		if nc, err = c.dialVia(ctx, addr); err != nil {
			return nil, err
		}
	} else if nc, err = d.DialContext(ctx, "tcp", addr); err != nil {
		return nil, c.errorf(err, "connect %s: %s", addr, c.dialReason(ctx, err))
	}
	// The handshake has no context of its own: a deadline bounds a server
	// that accepts but never speaks, and cancellation closes the socket.
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.Close() })

	hk := &hostKeyChecker{file: cfg.KnownHostsFile, accept: cfg.AcceptNewHostKeys, hash: cfg.HashKnownHosts}
	auth, authDone := c.creds.methods(func(network, a string) (net.Conn, error) {
		return d.DialContext(ctx, network, a)
	})
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.knownAlgorithms(addr),
	})
	authDone()
	if !stop() && err == nil {
		// The context ended just as the handshake finished.
		sc.Close()
		err = ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, c.handshakeError(ctx, addr, hk, err)
	}
	nc.SetDeadline(time.Time{})

	cn := &conn{ssh: ssh.NewClient(sc, chans, reqs), dead: make(chan struct{}), sessions: &c.sessions}
	go func() {
		cn.ssh.Wait()
		close(cn.dead)
	}()
	if cfg.KeepaliveInterval > 0 {
		go keepalive(cn, cfg.KeepaliveInterval)
	}
	return cn, nil
}

func (c *Client) dialReason(ctx context.Context, err error) string {
	if ctx.Err() == context.DeadlineExceeded || isTimeout(err) {
		return "timed out after " + c.cfg.ConnectTimeout.String()
	}
	if ctx.Err() == context.Canceled {
		return "canceled"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error() // "connection refused", "no route to host"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot resolve " + dns.Name + ": " + dns.Err
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// handshakeError turns an ssh handshake failure into one actionable line.
func (c *Client) handshakeError(ctx context.Context, addr string, hk *hostKeyChecker, err error) error {
	msg := err.Error()
	switch {
	case hk.err != nil:
		return c.errorf(hk.err, "%v", hk.err)
	case ctx.Err() == context.DeadlineExceeded || isTimeout(err):
		return c.errorf(err, "connect %s: timed out after %s waiting for the SSH handshake", addr, c.cfg.ConnectTimeout)
	case ctx.Err() == context.Canceled:
		return c.errorf(err, "connect %s: canceled", addr)
	case strings.Contains(msg, "unable to authenticate"),
		// sshd's MaxAuthTries, typically an agent holding many keys.
		strings.Contains(msg, "Too many authentication failures"):
		return c.errorf(err, "login as %s refused (tried %s)", c.cfg.User, c.creds.describe())
	case strings.Contains(msg, "no common algorithm for host key"):
		return c.errorf(err, "host key for %s has CHANGED: %s knows it only by %s keys and the server offers none of them; "+
			"this may be a man-in-the-middle attack (if the host was reinstalled, delete its lines and reconnect)",
			knownhosts.Normalize(addr), Tildify(c.cfg.KnownHostsFile), strings.Join(hk.knownAlgorithms(addr), "/"))
	case errors.Is(err, io.EOF):
		return c.errorf(err, "connect %s: connection closed during the SSH handshake", addr)
	}
	return c.errorf(err, "connect %s: %s", addr, strings.TrimPrefix(msg, "ssh: handshake failed: "))
}

// keepalive pings the server so idle NAT/firewall state survives long tasks,
// and closes a connection whose peer stopped answering: blocked operations
// then fail (and redial) instead of hanging forever.
func keepalive(cn *conn, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-cn.dead:
			return
		case <-t.C:
		}
		if !ping(cn, 3*every) {
			cn.ssh.Close()
			return
		}
	}
}

// ping sends one keepalive@openssh.com; a "failure" reply still proves the
// server is alive, only an error or silence counts.
func ping(cn *conn, wait time.Duration) bool {
	errc := make(chan error, 1)
	go func() {
		_, _, err := cn.ssh.SendRequest("keepalive@openssh.com", true, nil)
		errc <- err
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-errc:
		return err == nil
	case <-cn.dead:
		return false
	case <-t.C:
		return false
	}
}

// current returns the live connection, redialling first if it is known to
// be dead (for instance after a command lost it).
func (c *Client) current(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	cn, closed := c.conn, c.closed
	c.mu.Unlock()
	if closed {
		return nil, c.errorf(net.ErrClosed, "connection already closed")
	}
	if cn.isDead() {
		return c.redial(ctx, cn)
	}
	return cn, nil
}

// redial replaces old with a new connection, unless another goroutine
// already did.
func (c *Client) redial(ctx context.Context, old *conn) (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, c.errorf(net.ErrClosed, "connection already closed")
	}
	if c.conn != old {
		return c.conn, nil
	}
	old.close()
	cn, err := c.connect(ctx)
	if err != nil {
		msg := err.Error()
		var te *Error
		if errors.As(err, &te) {
			msg = te.Msg
		}
		return nil, c.errorf(err, "connection lost, redial failed: %s", msg)
	}
	c.conn = cn
	return cn, nil
}

// lost reports whether err came from a broken connection, confirming with
// a ping when the transport has not noticed yet. Only then is a retry on a
// fresh connection worth it; other errors (permission, missing directory)
// would fail again.
func (c *Client) lost(cn *conn, err error) bool {
	if err == nil {
		return false
	}
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		return false // the server answered: it is alive but said no
	}
	if cn.isDead() {
		return true
	}
	wait := min(c.cfg.ConnectTimeout, 5*time.Second)
	if !ping(cn, wait) {
		cn.ssh.Close()
		return true
	}
	return false
}

// sftpClient returns cn's SFTP client, opening it on first use.
func (cn *conn) sftpClient() (*sftp.Client, error) {
	cn.sftpMu.Lock()
	defer cn.sftpMu.Unlock()
	if cn.sftp == nil {
		cn.sessions.Add(1) // the sftp subsystem runs in a session channel
		sc, err := sftp.NewClient(cn.ssh)
		if err != nil {
			return nil, fmt.Errorf("start sftp: %w", err)
		}
		cn.sftp = sc
	}
	return cn.sftp, nil
}

// homeDir is the SFTP start directory (the login's home), where non-root
// uploads are staged before sudo moves them into place.
func (cn *conn) homeDir() (string, error) {
	sc, err := cn.sftpClient()
	if err != nil {
		return "", err
	}
	cn.sftpMu.Lock()
	defer cn.sftpMu.Unlock()
	if cn.home == "" {
		h, err := sc.Getwd()
		if err != nil {
			return "", fmt.Errorf("find home directory: %w", err)
		}
		cn.home = h
	}
	return cn.home, nil
}

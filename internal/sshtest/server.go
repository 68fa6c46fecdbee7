// Package sshtest runs a real SSH + SFTP server inside a test process, on
// 127.0.0.1 only, so that transport code and the packages built on it can be
// tested against the actual protocol instead of a mock. Commands run through
// the local /bin/sh as the test's own user (the login name is ignored), and
// SFTP serves the real filesystem: tests work under t.TempDir().
package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	authorized []ssh.PublicKey
	password   string
	hostKeys   []ssh.Signer
	homeDir    string
	noForward  bool
	holdExec   bool
}

// WithAuthorizedKey lets a client log in with the private half of pub.
// May be given several times.
func WithAuthorizedKey(pub ssh.PublicKey) Option {
	return func(o *options) { o.authorized = append(o.authorized, pub) }
}

// WithPassword enables password authentication with exactly this password
// (for any user name). Public keys given with WithAuthorizedKey still work.
func WithPassword(password string) Option {
	return func(o *options) { o.password = password }
}

// WithHostKey makes the server present these host keys instead of a
// freshly generated ed25519 one. Several keys of different types let a test
// check host key algorithm negotiation.
func WithHostKey(signers ...ssh.Signer) Option {
	return func(o *options) { o.hostKeys = append(o.hostKeys, signers...) }
}

// WithHomeDir sets the directory commands start in and SFTP resolves
// relative paths against (what a login's home directory is on a real host).
// Default: a fresh t.TempDir().
func WithHomeDir(dir string) Option {
	return func(o *options) { o.homeDir = dir }
}

// WithoutTCPForwarding refuses every direct-tcpip channel as
// "administratively prohibited", like sshd with AllowTcpForwarding no.
func WithoutTCPForwarding() Option {
	return func(o *options) { o.noForward = true }
}

// WithExecRepliesWithheld runs every exec request but never answers one
// that wants a reply, as a far server whose answer is still on its way:
// a client that waits for the answer before reading the output hangs.
func WithExecRepliesWithheld() Option {
	return func(o *options) { o.holdExec = true }
}

// Server is a running in-process SSH server.
type Server struct {
	tb      testing.TB
	ln      net.Listener
	home    string
	auth    options // authorized keys and password, fixed at Start
	wg      sync.WaitGroup
	mu      sync.Mutex
	hostKey []ssh.Signer
	conns   map[net.Conn]struct{}
	cmds    []string
	fwds    []string
	users   []string
	alives  int
	closed  bool
}

// Start listens on 127.0.0.1:0 and serves until the test ends (or Close).
// Without WithAuthorizedKey or WithPassword nobody can log in.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.hostKeys) == 0 {
		o.hostKeys = []ssh.Signer{NewSigner(tb)}
	}
	if o.homeDir == "" {
		o.homeDir = tb.TempDir()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("sshtest: listen: %v", err)
	}
	s := &Server{
		tb:      tb,
		ln:      ln,
		home:    o.homeDir,
		auth:    o,
		hostKey: o.hostKeys,
		conns:   map[net.Conn]struct{}{},
	}
	s.wg.Add(1)
	go s.acceptLoop()
	tb.Cleanup(s.Close)
	return s
}

// Addr is the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is always "127.0.0.1".
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the listening TCP port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// HomeDir is where commands start and relative SFTP paths point.
func (s *Server) HomeDir() string { return s.home }

// HostKey is the first (primary) public host key currently presented.
func (s *Server) HostKey() ssh.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostKey[0].PublicKey()
}

// SetHostKey replaces the presented host keys for connections made from
// now on: the same address with a new key is what a "changed host key"
// (rebuilt host, or an attack) looks like to a client.
func (s *Server) SetHostKey(signers ...ssh.Signer) {
	if len(signers) == 0 {
		panic("sshtest: SetHostKey needs a key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostKey = append([]ssh.Signer(nil), signers...)
}

// DropConnections abruptly closes every live client connection (and so
// kills the commands running on them), as a network failure or a rebooted
// host would. The server keeps listening, so clients can redial.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// ConnCount is the number of client connections currently open.
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Commands returns every "exec" command line received so far, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

// Forwards returns the target "host:port" of every direct-tcpip channel
// requested so far (refused ones included), in order.
func (s *Server) Forwards() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.fwds...)
}

// Users returns the user name of every successful login so far.
func (s *Server) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.users...)
}

// Keepalives is how many keepalive@openssh.com requests were received.
func (s *Server) Keepalives() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alives
}

// Close stops listening, drops all connections and waits for every
// goroutine and command to finish. Safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // listener closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// config is built per connection so SetHostKey affects new handshakes only.
func (s *Server) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		// Record the login before the server answers "success": the client's
		// Dial may return (and a test read Users) before NewServerConn does.
		AuthLogCallback: func(c ssh.ConnMetadata, _ string, err error) {
			if err == nil {
				s.mu.Lock()
				s.users = append(s.users, c.User())
				s.mu.Unlock()
			}
		},
	}
	if len(s.auth.authorized) > 0 {
		cfg.PublicKeyCallback = func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range s.auth.authorized {
				if subtle.ConstantTimeCompare(k.Marshal(), key.Marshal()) == 1 {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, errors.New("key not authorized")
		}
	}
	if s.auth.password != "" {
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if subtle.ConstantTimeCompare(pw, []byte(s.auth.password)) == 1 {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	s.mu.Lock()
	for _, k := range s.hostKey {
		cfg.AddHostKey(k)
	}
	s.mu.Unlock()
	return cfg
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	_, chans, reqs, err := ssh.NewServerConn(c, s.config())
	if err != nil {
		return // failed handshake or auth: the client sees the reason
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for r := range reqs {
			if r.Type == "keepalive@openssh.com" {
				s.mu.Lock()
				s.alives++
				s.mu.Unlock()
				r.Reply(true, nil)
				continue
			}
			r.Reply(false, nil)
		}
	}()

	var sessions sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() == "direct-tcpip" {
			sessions.Add(1)
			go func() {
				defer sessions.Done()
				s.serveDirectTCPIP(nc)
			}()
			continue
		}
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session and direct-tcpip channels")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			s.serveSession(ch, creqs)
		}()
	}
	// chans closes when the connection is gone; sessions notice it too
	// (their request channels close) and kill their commands.
	sessions.Wait()
}

// exitStatus sends the "exit-status" message a client's Wait needs.
func exitStatus(ch ssh.Channel, code int) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
}

// NewSigner returns a fresh ed25519 key, for host or client keys.
func NewSigner(tb testing.TB) ssh.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("sshtest: generate key: %v", err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatalf("sshtest: signer: %v", err)
	}
	return s
}

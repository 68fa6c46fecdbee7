package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"golang.org/x/crypto/ssh"
)

// sudoWrap runs cmd as root without ever prompting: -n makes sudo fail
// instead of waiting for a password nobody will type.
func sudoWrap(cmd string) string {
	return "sudo -n sh -c " + remote.ShellQuote(cmd)
}

// sudoPassWrap runs cmd as root with sudo's password on stdin, never on
// the command line: -S reads it there, -p with an empty prompt prints none, -k ignores
// a cached credential so that sudo always reads the line, and cmd's own
// stdin is /dev/null, so a line sudo did not read (a NOPASSWD rule) is
// never read by the command either.
func sudoPassWrap(cmd string) string {
	return "sudo -k -S -p '' sh -c " + remote.ShellQuote("exec </dev/null; "+cmd)
}

// invocation is what is sent to the server for one command: its line and
// what its stdin gets before EOF.
type invocation struct{ line, stdin string }

// plain runs line as the login user, as it is.
func plain(line string) invocation { return invocation{line: line} }

// asRoot runs cmd as root: as it is for root, else through sudo.
func (c *Client) asRoot(cmd string) invocation {
	switch {
	case !c.sudo:
		return plain(cmd)
	case c.sudoPass != "":
		return invocation{line: sudoPassWrap(cmd), stdin: c.sudoPass + "\n"}
	}
	return plain(sudoWrap(cmd))
}

// sudoRefused recognises sudo's messages for "would need a password" and
// "the password was wrong".
func sudoRefused(stderr string) bool {
	return strings.Contains(stderr, "sudo: a password is required") ||
		strings.Contains(stderr, "incorrect password attempt") ||
		strings.Contains(stderr, "sudo: no password was provided") ||
		strings.Contains(stderr, "sudo: a terminal is required") ||
		strings.Contains(stderr, "is not in the sudoers file") ||
		strings.Contains(stderr, "is not allowed to execute")
}

func (c *Client) sudoError(res remote.Result) error {
	if c.sudoPass != "" {
		return c.errorf(remote.ErrNoRoot, "user %s: sudo on host %s refused the password in $%s (sudo said: %s)",
			c.cfg.User, c.cfg.Host, c.cfg.SudoPasswordEnv, remote.LastLine(res.Stderr, res.Stdout))
	}
	return c.errorf(remote.ErrNoRoot, "user %s needs passwordless sudo on host %s, or its password in the variable ssh.sudo_password_env names (sudo -n said: %s)",
		c.cfg.User, c.cfg.Host, remote.LastLine(res.Stderr, res.Stdout))
}

// checkSudo proves `sudo -n` works before any task relies on it.
func (c *Client) checkSudo(ctx context.Context) error {
	res, err := c.Run(ctx, "true")
	if err != nil {
		return err
	}
	if !res.OK() {
		if res.ExitCode == 127 {
			return c.errorf(nil, "user %s cannot use sudo on host %s: %s", c.cfg.User, c.cfg.Host, remote.LastLine(res.Stderr))
		}
		return c.sudoError(res)
	}
	return nil
}

// errLost: the connection broke while a command was running.
var errLost = errors.New("connection lost while a command was running")

// sessionOpenError: the command never reached the server.
type sessionOpenError struct{ err error }

func (e *sessionOpenError) Error() string { return "open session: " + e.err.Error() }
func (e *sessionOpenError) Unwrap() error { return e.err }

// Run runs cmd (as root, via sudo for other users). If the connection had
// dropped before the command could start, it redials and tries once more;
// a command that started and then lost its connection is not retried,
// since it may have had effects. Errors never quote cmd: it may hold secrets.
func (c *Client) Run(ctx context.Context, cmd string) (remote.Result, error) {
	inv := c.asRoot(cmd)
	for attempt := 0; ; attempt++ {
		cn, err := c.current(ctx)
		if err != nil {
			return remote.Result{}, err
		}
		res, err := c.runOn(ctx, cn, inv)
		var soe *sessionOpenError
		if errors.As(err, &soe) && attempt == 0 && ctx.Err() == nil && c.lost(cn, soe.err) {
			if _, rerr := c.redial(ctx, cn); rerr != nil {
				return remote.Result{}, rerr
			}
			continue
		}
		switch {
		case errors.Is(err, errLost):
			return res, c.errorf(err, "%v; it may have partly run, so it was not retried", errLost)
		case err != nil:
			return res, c.errorf(err, "run: %v", err)
		case c.sudo && res.ExitCode == 1 && sudoRefused(res.Stderr):
			return res, c.sudoError(res)
		}
		return res, nil
	}
}

// runOn runs an already wrapped command line on cn, without retrying.
// Errors are raw (no host prefix): callers add their purpose.
//
// It speaks the session protocol itself rather than through ssh.Session,
// whose Start waits for the server's reply to "exec": a round trip per
// command that tells nothing the exit status does not (a command the
// server would not start ends with no exit status, an error here too).
// Opening the channel is the one wait left before the command runs: two
// round trips per command instead of three, which at 50 ms is 50 ms off
// every read a run cannot batch, every lock refresh and every gate.
func (c *Client) runOn(ctx context.Context, cn *conn, inv invocation) (remote.Result, error) {
	ch, reqs, err := openSession(ctx, cn)
	if err != nil {
		return remote.Result{}, &sessionOpenError{err}
	}
	defer ch.Close()
	if _, err := ch.SendRequest("exec", false, ssh.Marshal(struct{ Command string }{inv.line})); err != nil {
		// The exec request may have reached the server before failing.
		if c.lost(cn, err) {
			return remote.Result{}, fmt.Errorf("%w (%v)", errLost, err)
		}
		return remote.Result{}, fmt.Errorf("start command: %w", err)
	}
	var stdout, stderr bytes.Buffer
	done := make(chan exitInfo, 1)
	go func() { done <- collect(ch, reqs, &stdout, &stderr) }()
	// stdin beside the output: a command may answer before it has read
	// all of it. A failed write shows as the command's own failure.
	go func() {
		if inv.stdin != "" {
			io.WriteString(ch, inv.stdin)
		}
		ch.CloseWrite() // then EOF: a command that reads stdin does not wait
	}()
	var ex exitInfo
	select {
	case ex = <-done:
	case <-ctx.Done():
		ch.SendRequest("signal", false, ssh.Marshal(struct{ Signal string }{"KILL"}))
		ch.Close()
		// The output buffers are only safe to read once collect has
		// returned; a hung peer may never let it, so don't wait long.
		res := remote.Result{ExitCode: -1}
		select {
		case <-done:
			res.Stdout, res.Stderr = stdout.String(), stderr.String()
		case <-time.After(time.Second):
		}
		return res, fmt.Errorf("%w while the command was running", ctx.Err())
	}
	res := remote.Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: ex.code}
	switch {
	case ex.ok:
		return res, nil
	case c.lost(cn, errNoExitStatus):
		return res, fmt.Errorf("%w (%v)", errLost, errNoExitStatus)
	}
	return res, fmt.Errorf("command ended without an exit status: %w", errNoExitStatus)
}

var errNoExitStatus = errors.New("the channel closed with no exit status")

// exitInfo is how a command ended: code is its exit status, or 128+n when
// signal n killed it (as a shell reports it).
type exitInfo struct {
	code int
	ok   bool // the server sent an exit status or signal
}

// signalNumbers are the signals RFC 4254 names, as Linux numbers them.
var signalNumbers = map[string]int{
	"ABRT": 6, "ALRM": 14, "FPE": 8, "HUP": 1, "ILL": 4, "INT": 2, "KILL": 9,
	"PIPE": 13, "QUIT": 3, "SEGV": 11, "TERM": 15, "USR1": 10, "USR2": 12,
}

// collect copies a session's stdout and stderr until the server closes
// it and returns how the command ended.
func collect(ch ssh.Channel, reqs <-chan *ssh.Request, stdout, stderr io.Writer) exitInfo {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(stdout, ch); wg.Done() }()
	go func() { io.Copy(stderr, ch.Stderr()); wg.Done() }()
	var ex exitInfo
	for req := range reqs {
		switch req.Type {
		case "exit-status":
			var p struct{ Status uint32 }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				ex = exitInfo{code: int(p.Status), ok: true}
			}
		case "exit-signal":
			var p struct {
				Signal     string
				CoreDumped bool
				Error      string
				Lang       string
			}
			if ssh.Unmarshal(req.Payload, &p) == nil {
				ex = exitInfo{code: 128 + signalNumbers[p.Signal], ok: true}
			}
		}
		if req.WantReply {
			req.Reply(false, nil)
		}
	}
	wg.Wait()
	return ex
}

// openSession opens a session channel, giving up when ctx ends. (Opening
// waits for the server; keepalive closes a silent connection eventually,
// but a caller's deadline should win.)
func openSession(ctx context.Context, cn *conn) (ssh.Channel, <-chan *ssh.Request, error) {
	type result struct {
		ch   ssh.Channel
		reqs <-chan *ssh.Request
		err  error
	}
	opened := make(chan result, 1)
	cn.sessions.Add(1)
	go func() {
		ch, reqs, err := cn.ssh.OpenChannel("session", nil)
		opened <- result{ch, reqs, err}
	}()
	select {
	case r := <-opened:
		return r.ch, r.reqs, r.err
	case <-ctx.Done():
		go func() {
			if r := <-opened; r.ch != nil {
				r.ch.Close()
				go ssh.DiscardRequests(r.reqs)
			}
		}()
		return nil, nil, ctx.Err()
	}
}

// retry runs an idempotent operation, once more on a fresh connection if
// the first attempt failed because the connection was lost.
func (c *Client) retry(ctx context.Context, op func(cn *conn) error) error {
	cn, err := c.current(ctx)
	if err != nil {
		return err
	}
	err = op(cn)
	if err == nil || ctx.Err() != nil || !c.lost(cn, err) {
		return err
	}
	if cn, err = c.redial(ctx, cn); err != nil {
		return err
	}
	return op(cn)
}

package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"golang.org/x/crypto/ssh"
)

// sudoWrap runs cmd as root without ever prompting: -n makes sudo fail
// instead of waiting for a password nobody will type.
func sudoWrap(cmd string) string {
	return "sudo -n sh -c " + remote.ShellQuote(cmd)
}

// commandLine is what is sent to the server for cmd.
func (c *Client) commandLine(cmd string) string {
	if c.sudo {
		return sudoWrap(cmd)
	}
	return cmd
}

// sudoRefused recognises sudo's messages for "would need a password".
func sudoRefused(stderr string) bool {
	return strings.Contains(stderr, "sudo: a password is required") ||
		strings.Contains(stderr, "sudo: a terminal is required") ||
		strings.Contains(stderr, "is not in the sudoers file") ||
		strings.Contains(stderr, "is not allowed to execute")
}

func (c *Client) sudoError(res remote.Result) error {
	return c.errorf(remote.ErrNoRoot, "user %s needs passwordless sudo on host %s (sudo -n said: %s)",
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
	line := c.commandLine(cmd)
	for attempt := 0; ; attempt++ {
		cn, err := c.current(ctx)
		if err != nil {
			return remote.Result{}, err
		}
		res, err := c.runOn(ctx, cn, line)
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
func (c *Client) runOn(ctx context.Context, cn *conn, line string) (remote.Result, error) {
	sess, err := newSession(ctx, cn)
	if err != nil {
		return remote.Result{}, &sessionOpenError{err}
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if err := sess.Start(line); err != nil {
		// The exec request may have reached the server before failing.
		if c.lost(cn, err) {
			return remote.Result{}, fmt.Errorf("%w (%v)", errLost, err)
		}
		return remote.Result{}, fmt.Errorf("start command: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		// The output buffers are only safe to read once Wait has returned;
		// a hung peer may never let it, so don't wait long.
		res := remote.Result{ExitCode: -1}
		select {
		case <-done:
			res.Stdout, res.Stderr = stdout.String(), stderr.String()
		case <-time.After(time.Second):
		}
		return res, fmt.Errorf("%w while the command was running", ctx.Err())
	}
	res := remote.Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitStatus() // 128+n when killed by signal n
		return res, nil
	case c.lost(cn, err):
		return res, fmt.Errorf("%w (%v)", errLost, err)
	}
	return res, fmt.Errorf("command ended without an exit status: %w", err)
}

// newSession opens a session channel, giving up when ctx ends. (Opening
// waits for the server; keepalive closes a silent connection eventually,
// but a caller's deadline should win.)
func newSession(ctx context.Context, cn *conn) (*ssh.Session, error) {
	type result struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan result, 1)
	cn.sessions.Add(1)
	go func() {
		s, err := cn.ssh.NewSession()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
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

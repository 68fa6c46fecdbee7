// Package remote is the contract between the things that reach a host (the
// SSH transport, a local executor) and the things that act on one (the task
// engine, the playbooks, verify). It holds only types, so that the engine
// never imports the transport and tests can plug in any real executor.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// ErrNoRoot is the cause of a connection that logged in but cannot run
// commands as root (sudo wants a password): a login that works, so callers
// report it as a privilege problem, not as an unreachable host.
var ErrNoRoot = errors.New("commands cannot run as root")

// Result is what a finished command left behind.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// OK reports whether the command exited 0.
func (r Result) OK() bool { return r.ExitCode == 0 }

// ExitError turns a non-zero Result into an error that names the command's
// purpose (never the command line itself, which may carry secrets) and the
// last line of stderr, which is what an operator needs to act on.
func (r Result) ExitError(what string) error {
	if r.OK() {
		return nil
	}
	return fmt.Errorf("%s: exit %d: %s", what, r.ExitCode, LastLine(r.Stderr, r.Stdout))
}

// LastLine returns the last non-empty line of the first non-empty text.
func LastLine(texts ...string) string {
	for _, t := range texts {
		end := len(t)
		for end > 0 && (t[end-1] == '\n' || t[end-1] == '\r' || t[end-1] == ' ') {
			end--
		}
		if end == 0 {
			continue
		}
		start := end
		for start > 0 && t[start-1] != '\n' {
			start--
		}
		return t[start:end]
	}
	return "(no output)"
}

// FileMeta is the mode and ownership a written file must end up with.
// Empty Owner/Group leave the remote defaults (root when privileged).
type FileMeta struct {
	Mode  fs.FileMode
	Owner string
	Group string
}

// Conn is one host, reached over one connection for a whole run.
// Every method runs with root privileges: an implementation for a non-root
// login wraps commands in `sudo -n` itself.
type Conn interface {
	// Host is the inventory name of the host, for messages.
	Host() string
	// Run runs a shell command line (POSIX sh) and returns its result.
	// A non-zero exit status is not an error; err is for transport failures.
	Run(ctx context.Context, cmd string) (Result, error)
	// ReadFile returns a file's content; exists is false when it is absent.
	ReadFile(ctx context.Context, path string) (data []byte, exists bool, err error)
	// WriteFile replaces path atomically (temp name in the same directory,
	// then rename) with data, mode and owner.
	WriteFile(ctx context.Context, path string, data []byte, meta FileMeta) error
	// Upload copies a local file to path atomically, skipping the transfer
	// when the remote file already has the same SHA-256. changed reports
	// whether anything was transferred or its metadata fixed.
	Upload(ctx context.Context, localPath, path string, meta FileMeta) (changed bool, err error)
	// Close ends the connection.
	Close() error
}

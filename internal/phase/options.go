// Package phase is what clusterctl's commands that work on hosts do, each
// as an ordered list of phases read top to bottom (apply: load, check the
// artifacts, connect, preflight, lock, converge, roll, record; restart,
// rollback, teardown and verify likewise). The CLI parses flags into
// Options, calls one of them and turns its error into an exit code.
package phase

import (
	"io"
	"time"

	"github.com/clusterctl/clusterctl/internal/sshsettings"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// Exit codes, documented in README.md and `clusterctl --help`.
const (
	ExitOK         = 0 // every host converged / passed
	ExitHostFailed = 1 // at least one host failed (the recap names it)
	ExitUsage      = 2 // bad usage, a bad inventory or a refused change: nothing was changed on any host
)

// Options are what every command shares: the global flags, the command's
// name (the run lock records it) and where it reads and writes.
type Options struct {
	Inventory         string
	Hosts             []string
	DryRun            bool
	Diff              bool
	Output            string // text or json
	Color             string // auto (a terminal, unless NO_COLOR or TERM=dumb), always, never
	Verbose           bool
	Parallel          int
	AcceptNewHostKeys bool
	ConnectTimeout    time.Duration
	SkipPreflight     []string
	ForceUnlock       bool
	UnsafeNoDrain     bool // hidden: the rollout without drains, for the test that shows what they prevent
	PauseAfterDump    bool // hidden: hold the rollout after each memcached dump until a line on Stdin, for the test of writes in between

	Command        string // "clusterctl apply"
	Stdout, Stderr io.Writer
	Stdin          io.Reader

	// reach is how each host of the inventory is connected to, derived
	// by loadInventory before any host is contacted.
	reach map[string]sshsettings.Host
	// jumps are the command's bastion connections, one per bastion for the
	// whole command (every dial of hosts and --load's HTTP share them);
	// Close closes them after the command returns.
	jumps *transport.Jumps
}

// Bastions is the command's shared bastion connections.
func (g *Options) Bastions() *transport.Jumps {
	if g.jumps == nil {
		g.jumps = transport.NewJumps()
	}
	return g.jumps
}

// Close closes what the command's phases left open for its whole length.
func (g *Options) Close() { g.jumps.Close() }

// ExitError carries an exit code up to the CLI; its message is printed once.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is bad usage or a bad inventory (exit 2): nothing was
// contacted. Refused is the one exit 2 that has read the hosts first.
func UsageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// Refused is a change refused as asked for (exit 2, like bad usage: the
// command line must change), decided on what the hosts hold: they were
// read, nothing on them was changed.
func Refused(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// HostsFailed is a host that failed (exit 1).
func HostsFailed(err error) error { return &ExitError{Code: ExitHostFailed, Err: err} }

package engine

import (
	"context"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Host is one machine being converged: its connection, what the run learned
// about it, and play-specific data (roles, memcached node ids, ...).
type Host struct {
	Conn  remote.Conn
	Facts Facts
	Vars  map[string]any

	unreachable error // set by UnreachableHost
}

// NewHost wraps conn; facts are gathered by Run (or GatherFacts).
func NewHost(conn remote.Conn, vars map[string]any) *Host {
	if vars == nil {
		vars = map[string]any{}
	}
	return &Host{Conn: conn, Vars: vars}
}

// Unreachable is the dial error of a host made by UnreachableHost.
func (h *Host) Unreachable() error { return h.unreachable }

// Name is the inventory name of the host.
func (h *Host) Name() string { return h.Conn.Host() }

// OSReleasePath is where facts are read from.
const OSReleasePath = "/etc/os-release"

// GatherFacts reads /etc/os-release into h.Facts.
func (h *Host) GatherFacts(ctx context.Context) error {
	data, ok, err := h.ReadFile(ctx, OSReleasePath)
	if err != nil {
		return fmt.Errorf("gather facts: %w", err)
	}
	if !ok {
		return fmt.Errorf("gather facts: %s is missing", OSReleasePath)
	}
	h.Facts = ParseOSRelease(data)
	if !h.Facts.Gathered() {
		return fmt.Errorf("gather facts: no ID in %s", OSReleasePath)
	}
	return nil
}

// run runs cmd and turns a non-zero exit into an error named by what.
func (h *Host) run(ctx context.Context, what, cmd string) (remote.Result, error) {
	res, err := h.Conn.Run(ctx, cmd)
	if err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}
	return res, res.ExitError(what)
}

// runQuiet is run for commands whose output may echo secrets: the error
// names the purpose and exit code only.
func (h *Host) runQuiet(ctx context.Context, what, cmd string) error {
	res, err := h.Conn.Run(ctx, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !res.OK() {
		return fmt.Errorf("%s: exit %d (output hidden)", what, res.ExitCode)
	}
	return nil
}

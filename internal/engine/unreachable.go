package engine

import (
	"context"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// UnreachableHost stands for an inventory host that could not be dialed.
// Run reports it as failed with err (one "connect" step) without running
// anything, so a dead host shows up in the recap and the exit code instead
// of silently dropping out, and the other hosts still converge.
func UnreachableHost(name string, err error) *Host {
	if err == nil {
		err = fmt.Errorf("unreachable")
	}
	return &Host{Conn: deadConn{name: name, err: err}, Vars: map[string]any{}, unreachable: err}
}

// deadConn answers every call with the dial error.
type deadConn struct {
	name string
	err  error
}

func (c deadConn) Host() string { return c.name }
func (c deadConn) Run(context.Context, string) (remote.Result, error) {
	return remote.Result{}, c.err
}
func (c deadConn) ReadFile(context.Context, string) ([]byte, bool, error) {
	return nil, false, c.err
}
func (c deadConn) WriteFile(context.Context, string, []byte, remote.FileMeta) error {
	return c.err
}
func (c deadConn) Upload(context.Context, string, string, remote.FileMeta) (bool, error) {
	return false, c.err
}
func (c deadConn) Close() error { return nil }

package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// A dry run checks every step against the host as it is now, but the real
// run checks each step against the host as the steps before it left it. The
// two differ wherever an earlier step would change what a later one reads:
// apt starts a service on install, so the real run finds it running; two
// plays create the same directory, so the real run finds it there. Without
// a model of that, the dry run would report changes the real run never
// makes, or wait for a service only the real run would start.
//
// plan is that model, one per host and run: what the steps reported as
// "would change" so far would have done. Steps read it in their Check only
// in a dry run, and only for facts they cannot read from the host yet. A
// host's steps run one after another, so it needs no lock.
type plan struct {
	changed  []string                   // titles of the steps that would change so far
	packages map[string]bool            // packages a step would install
	started  map[string]bool            // units a step would start (or an install would)
	dirs     map[string]remote.FileMeta // directories a step would create
}

type dryRunKey struct{}

// stepContext is the context a host's steps run in: the run's state dir,
// and in a dry run a fresh plan.
func stepContext(ctx context.Context, opts Options) context.Context {
	return withStateDir(withDryRun(ctx, opts.DryRun), opts.StateDirOrDefault())
}

// withDryRun gives ctx a fresh plan when dry is set.
func withDryRun(ctx context.Context, dry bool) context.Context {
	if !dry {
		return ctx
	}
	return context.WithValue(ctx, dryRunKey{}, &plan{packages: map[string]bool{}, started: map[string]bool{}, dirs: map[string]remote.FileMeta{}})
}

// IsDryRun reports whether ctx belongs to a dry run.
func IsDryRun(ctx context.Context) bool { return planOf(ctx) != nil }

func planOf(ctx context.Context) *plan {
	p, _ := ctx.Value(dryRunKey{}).(*plan)
	return p
}

// The methods are safe on a nil plan (a real run): they record nothing and
// know nothing.

func (p *plan) stepChanged(title string) {
	if p == nil {
		return
	}
	p.changed = append(p.changed, title)
}

// before names the earlier steps that would change the host, the latest
// first, for messages.
func (p *plan) before() string {
	if p == nil {
		return ""
	}
	const show = 3
	var names []string
	for i := len(p.changed) - 1; i >= 0 && len(names) < show; i-- {
		names = append(names, p.changed[i])
	}
	if more := len(p.changed) - len(names); more > 0 {
		names = append(names, fmt.Sprintf("%d more", more))
	}
	return strings.Join(names, ", ")
}

func (p *plan) install(names ...string) {
	if p == nil {
		return
	}
	for _, n := range names {
		p.packages[n] = true
	}
}

func (p *plan) installs(name string) bool {
	if p == nil || name == "" {
		return false
	}
	return p.packages[name]
}

func (p *plan) start(unit string) {
	if p == nil {
		return
	}
	p.started[unitName(unit)] = true
}

func (p *plan) starts(unit string) bool {
	if p == nil {
		return false
	}
	return p.started[unitName(unit)]
}

func (p *plan) mkdir(path string, m remote.FileMeta) {
	if p == nil {
		return
	}
	p.dirs[path] = m
}

func (p *plan) dir(path string) (remote.FileMeta, bool) {
	if p == nil {
		return remote.FileMeta{}, false
	}
	m, ok := p.dirs[path]
	return m, ok
}

func unitName(u string) string { return strings.TrimSuffix(u, ".service") }

// AssumeError reports from a dry run's Check that the step would be "ok"
// in the real run on an assumption the dry run cannot check yet (what it
// would wait for); the reason is shown with the step.
type AssumeError struct{ Reason string }

func (e *AssumeError) Error() string { return e.Reason }

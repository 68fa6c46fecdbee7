package teardown

import (
	"context"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/parallel"
)

// Options control a teardown.
type Options struct {
	DryRun       bool
	Diff         bool
	Parallel     int
	StateDir     string // "" means engine.DefaultStateDir
	KeepPackages bool
	// Now names the copies of hand-edited files; nil means time.Now.
	Now func() time.Time
}

func (o Options) stateDir() string {
	if o.StateDir == "" {
		return engine.DefaultStateDir
	}
	return o.StateDir
}

// daemonReload is the handler every step that removed a unit file or a
// package notifies.
const daemonReload = "systemd daemon-reload"

// Run tears hosts down in parallel through the engine, so events, recap,
// dry-run and exit status are the same as apply's. A failing host stops
// only itself.
func Run(ctx context.Context, hosts []*engine.Host, opts Options, sink engine.EventSink) engine.Recap {
	return engine.Run(ctx, hosts, Plays(ctx, hosts, opts), engine.Options{
		DryRun: opts.DryRun, Diff: opts.Diff, Parallel: opts.Parallel, StateDir: opts.stateDir(),
	}, sink)
}

// Plays reads every host's journal (in parallel) and returns each host's
// plays: "teardown" (the undo steps) and "forget" (removing the journal).
// Unreachable hosts fail in the engine's own connect step instead.
func Plays(ctx context.Context, hosts []*engine.Host, opts Options) []engine.Play {
	limit := opts.Parallel
	if limit <= 0 {
		limit = engine.DefaultParallel
	}
	per := make([][]engine.Play, len(hosts))
	parallel.Each(len(hosts), limit, func(i int) {
		recs, exists, err := engine.ReadJournal(ctx, hosts[i].Conn, opts.stateDir())
		per[i] = HostPlays(hosts[i].Name(), recs, exists, err, opts)
	})
	var plays []engine.Play
	for _, p := range per {
		plays = append(plays, p...)
	}
	return plays
}

// HostPlays turns one host's journal (or the error reading it) into plays
// that run on that host only.
func HostPlays(host string, recs []engine.Record, exists bool, err error, opts Options) []engine.Play {
	on := engine.OnHosts(host)
	switch {
	case err != nil:
		return []engine.Play{{Name: "teardown", Hosts: on, Steps: []engine.Step{journalError{err}}}}
	case !exists:
		return []engine.Play{{Name: "teardown", Hosts: on, Steps: []engine.Step{nothingRecorded{}}}}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	plan := NewPlan(recs)
	return []engine.Play{
		{Name: "teardown", Hosts: on, Steps: Steps(plan, opts.KeepPackages, now().UTC().Format("20060102T150405Z")),
			Handlers: []engine.Step{engine.Command{Label: daemonReload, Cmd: "systemctl daemon-reload"}}},
		{Name: "forget", Hosts: on, Steps: []engine.Step{forgetStep{dir: opts.stateDir()}}},
	}
}

// Steps are the undo steps of plan, in the order the package doc gives.
func Steps(plan Plan, keepPackages bool, stamp string) []engine.Step {
	var steps []engine.Step
	for _, s := range plan.Services {
		steps = append(steps, serviceStep{s})
	}
	for _, c := range plan.Commands {
		steps = append(steps, engine.Command{Label: "undo " + c.Name, Cmd: c.Cmd, Unless: c.Unless})
	}
	for _, p := range plan.Paths {
		var st engine.Step = pathStep{u: p, stamp: stamp}
		if isUnitPath(p.Path()) {
			st = engine.Notify(st, daemonReload)
		}
		steps = append(steps, st)
	}
	kept := new(bool) // one host's plan: its steps run in order
	if len(plan.Packages) > 0 {
		steps = append(steps, engine.Notify(packagesStep{names: plan.Packages, keep: keepPackages, kept: kept}, daemonReload))
	}
	for _, u := range plan.Users {
		if !(keepPackages && u.ByPackage) {
			steps = append(steps, accountStep{u: u, kept: kept})
		}
	}
	for _, g := range plan.Groups {
		if !(keepPackages && g.ByPackage) {
			steps = append(steps, accountStep{u: g, group: true, kept: kept})
		}
	}
	if plan.Hostname != nil {
		steps = append(steps, hostnameStep{prev: *plan.Hostname})
	}
	if plan.Timezone != nil {
		steps = append(steps, timezoneStep{prev: *plan.Timezone})
	}
	return steps
}

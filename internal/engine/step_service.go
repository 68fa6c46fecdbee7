package engine

import (
	"context"
	"fmt"
	"strings"
)

// Service states.
const (
	Started = "started"
	Stopped = "stopped"
)

// Service brings a systemd unit to a run state and boot state. Empty State
// or nil Enabled leave that side alone. systemd is the same on both
// families, so the commands are too.
type Service struct {
	Name    string // unit name, e.g. "memcached" or "tomcat.service"
	State   string // Started, Stopped or "" (leave as is)
	Enabled *bool  // nil leaves the boot state alone
	// DaemonReload runs `systemctl daemon-reload` before acting, for units
	// whose file was written earlier in the same play.
	DaemonReload bool
	// Package is the package that ships the unit, when one does. A dry run
	// on a host without it then knows what the real run will find after
	// the install: running and enabled on Debian, neither on RHEL.
	Package string
	Label   string // title override; default "service <Name>"
}

// Bool returns a pointer to b, for Service.Enabled.
func Bool(b bool) *bool { return &b }

func (s Service) Title() string {
	if s.Label != "" {
		return s.Label
	}
	return "service " + s.Name
}

func (s Service) queryCmd() string {
	q := Quote(s.Name)
	return "systemctl is-active " + q + "; systemctl is-enabled " + q
}

func (s Service) Probes(*Host) []string { return []string{s.queryCmd()} }

func (s Service) Check(ctx context.Context, h *Host) (*Change, error) {
	if s.State != "" && s.State != Started && s.State != Stopped {
		return nil, fmt.Errorf("service %s: state %q: want %q or %q", s.Name, s.State, Started, Stopped)
	}
	// One round trip for both states. Both commands exit non-zero for
	// "inactive"/"disabled", so stdout is read, one line each: is-active
	// always prints a state; is-enabled prints nothing for an unknown unit.
	res, err := h.Conn.Run(ctx, s.queryCmd())
	if err != nil {
		return nil, fmt.Errorf("query service %s: %w", s.Name, err)
	}
	lines := strings.SplitN(strings.TrimSpace(res.Stdout), "\n", 2)
	active := isActiveState(strings.TrimSpace(lines[0]))
	enabledState := ""
	if len(lines) > 1 {
		enabledState = firstLine(lines[1])
	}
	dry := planOf(ctx)
	if dry != nil && enabledState == "" && dry.installs(s.Package) && h.Facts.InstallStartsServices() {
		active, enabledState = true, "enabled"
	}
	if enabledState == "masked" && (s.State == Started || (s.Enabled != nil && *s.Enabled)) {
		return nil, fmt.Errorf("service %s is masked; unmask it first", s.Name)
	}
	cmds := serviceCmds(s.Name, s.State, s.Enabled, active, isEnabledState(enabledState))
	if s.State == Started {
		dry.start(s.Name)
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	// Teardown stops and disables only what apply started and enabled.
	var recs []Record
	if s.Enabled != nil && *s.Enabled && !isEnabledState(enabledState) {
		recs = append(recs, Record{Kind: RecordServiceEnabled, Name: s.Name})
	}
	if s.State == Started && !active {
		recs = append(recs, Record{Kind: RecordServiceStarted, Name: s.Name})
	}
	if s.DaemonReload {
		cmds = append([]string{"systemctl daemon-reload"}, cmds...)
	}
	return &Change{
		Summary: strings.Join(cmds, "; "),
		Records: recs,
		Apply: func(ctx context.Context) error {
			for _, c := range cmds {
				if _, err := h.run(ctx, "service "+s.Name, c); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}

// isActiveState: a unit that is starting or reloading will be running.
func isActiveState(s string) bool {
	return s == "active" || s == "activating" || s == "reloading"
}

// isEnabledState: states where `systemctl enable` has nothing (more) to do.
func isEnabledState(s string) bool {
	switch s {
	case "enabled", "enabled-runtime", "static", "alias", "generated":
		return true
	}
	return false
}

// serviceCmds returns the systemctl commands that move a unit from
// (active, enabled) to the wanted states, folding the common pairs into
// `enable --now` / `disable --now`.
func serviceCmds(name, state string, enabled *bool, active, isEnabled bool) []string {
	n := Quote(name)
	needStart := state == Started && !active
	needStop := state == Stopped && active
	needEnable := enabled != nil && *enabled && !isEnabled
	needDisable := enabled != nil && !*enabled && isEnabled
	var cmds []string
	switch {
	case needEnable && needStart:
		return []string{"systemctl enable --now " + n}
	case needDisable && needStop:
		return []string{"systemctl disable --now " + n}
	case needEnable:
		cmds = append(cmds, "systemctl enable "+n)
	case needDisable:
		cmds = append(cmds, "systemctl disable "+n)
	}
	switch {
	case needStart:
		cmds = append(cmds, "systemctl start "+n)
	case needStop:
		cmds = append(cmds, "systemctl stop "+n)
	}
	return cmds
}

// Restart restarts (or reloads) a service; meant as a handler, so Check
// always reports a change: the state it acts on is "a notifying step
// changed something".
type Restart struct {
	Service      string
	Reload       bool // `systemctl reload` instead of restart (nginx)
	DaemonReload bool // `systemctl daemon-reload` first, after a unit file changed
	// IfRunning restarts only a running service (`systemctl try-restart`):
	// a handler of a play that comes before the service's first start must
	// not start it early, which would only mean a second start later.
	IfRunning bool
	// Rolling defers the restart of a running service to the caller of Run,
	// which rolls it across hosts one at a time (internal/rollout): a
	// service that carries sessions must never restart everywhere at once.
	// Run reports it in HostRecap.Deferred and leaves its pending marker on
	// the host until the rollout clears it. A service that is not running
	// needs no restart (its first start reads the new config), so the
	// handler is then "ok".
	Rolling bool
	// RestartNowIf, with Rolling, is a shell condition on the host that
	// proves a restart there loses nothing (memcached answers and holds no
	// item: a new cluster). Only where it holds does a running service
	// restart at once; anywhere else, including where the condition cannot
	// tell (a memcached at its connection limit, refusing new clients), the
	// restart is deferred to the rollout, which hands the keys over. A
	// condition that fails for any reason thus costs a rollout, never the
	// sessions' second copy.
	RestartNowIf string
	// WhileStopped, for a plain restart, is a shell script run between the
	// stop and the start (a new application version put in place while the
	// service cannot see it half written). The service is started whether
	// it succeeds or not (a service left stopped helps nobody), and the
	// restart fails when it failed.
	WhileStopped string
	Label        string
}

func (r Restart) Title() string {
	if r.Label != "" {
		return r.Label
	}
	if r.Reload {
		return "reload " + r.Service
	}
	return "restart " + r.Service
}

func (r Restart) Check(ctx context.Context, h *Host) (*Change, error) {
	if r.Rolling {
		res, err := h.Conn.Run(ctx, "systemctl is-active "+Quote(r.Service))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Title(), err)
		}
		active := isActiveState(firstLine(res.Stdout))
		if !active && !planOf(ctx).starts(r.Service) {
			return nil, nil
		}
		roll := true
		switch {
		case r.RestartNowIf != "" && !active:
			// A dry run, for a service only this run starts: nothing there to
			// ask yet, and nothing to lose, as the real run's condition will
			// find.
			roll = false
		case r.RestartNowIf != "":
			res, err := h.Conn.Run(ctx, "{ "+r.RestartNowIf+"; } >/dev/null 2>&1")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Title(), err)
			}
			roll = !res.OK()
		}
		if roll {
			return &Change{Summary: "deferred: rolled across hosts after the converge", deferred: true}, nil
		}
	}
	cmd := restartCmd(r)
	summary := cmd
	if r.WhileStopped != "" && !r.Reload && !r.IfRunning {
		summary = "systemctl stop " + r.Service + ", what waits for the stop, systemctl start " + r.Service
	}
	return &Change{
		Summary: summary,
		Apply: func(ctx context.Context) error {
			_, err := h.run(ctx, r.Title(), cmd)
			return err
		},
	}, nil
}

func restartCmd(r Restart) string {
	verb := "restart"
	switch {
	case r.Reload && r.IfRunning:
		verb = "try-reload-or-restart"
	case r.Reload:
		verb = "reload"
	case r.IfRunning:
		verb = "try-restart"
	}
	cmd := "systemctl " + verb + " " + Quote(r.Service)
	if r.WhileStopped != "" && verb == "restart" {
		cmd = "systemctl stop " + Quote(r.Service) + " && { ( " + r.WhileStopped + "\n); rc=$?; systemctl start " + Quote(r.Service) + " && exit $rc; }"
	}
	if r.DaemonReload {
		cmd = "systemctl daemon-reload && " + cmd
	}
	return cmd
}

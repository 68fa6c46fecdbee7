package teardown

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// serviceStep stops and/or disables a unit apply started and/or enabled.
type serviceStep struct{ s ServiceUndo }

func (s serviceStep) Title() string {
	switch {
	case s.s.Stop && s.s.Disable:
		return "stop and disable " + s.s.Name
	case s.s.Stop:
		return "stop " + s.s.Name
	}
	return "disable " + s.s.Name
}

func (s serviceStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	n := engine.Quote(s.s.Name)
	// Both exit non-zero for inactive/disabled (or a unit already gone):
	// read stdout only.
	res, err := h.Conn.Run(ctx, "systemctl is-active "+n+"; systemctl is-enabled "+n)
	if err != nil {
		return nil, fmt.Errorf("query service %s: %w", s.s.Name, err)
	}
	f := strings.Fields(res.Stdout)
	active := len(f) > 0 && (f[0] == "active" || f[0] == "activating" || f[0] == "reloading")
	enabled := len(f) > 1 && f[1] == "enabled"
	var cmds []string
	if s.s.Disable && enabled {
		cmds = append(cmds, "systemctl disable "+n)
	}
	if s.s.Stop && active {
		cmds = append(cmds, "systemctl stop "+n)
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	return change(h, strings.Join(cmds, "; "), "service "+s.s.Name, strings.Join(cmds, " && ")), nil
}

// packagesStep purges the packages apply installed that are still there,
// except those whose removal would take along a package apply did not
// install (cascade.go): those stay, and *kept tells accountStep so.
type packagesStep struct {
	names []string
	keep  bool  // --keep-packages
	kept  *bool // the host's steps run in order: no lock needed
}

func (s packagesStep) Title() string { return "remove packages" }

func (s packagesStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	if s.keep {
		return nil, engine.Skip("--keep-packages: kept " + strings.Join(s.names, " "))
	}
	list, remove, err := packageCmds(h.Facts.PackageManager)
	if err != nil {
		return nil, fmt.Errorf("remove packages: %w (%s)", err, h.Facts.ID)
	}
	out, err := run(ctx, h, "list packages", list)
	if err != nil {
		return nil, err
	}
	installed := map[string]bool{}
	for _, n := range strings.Fields(out) {
		installed[n] = true
	}
	var present []string
	for _, n := range s.names {
		if installed[n] {
			present = append(present, n)
		}
	}
	if len(present) == 0 {
		return nil, nil
	}
	todo, keep, outsiders, err := purgeable(ctx, present, hostSimulator(h))
	if err != nil {
		return nil, err
	}
	var why string
	if len(keep) > 0 {
		*s.kept = true
		why = fmt.Sprintf("kept %s: removing them would also remove %s, which apply did not install",
			strings.Join(keep, " "), strings.Join(outsiders, " "))
	}
	if len(todo) == 0 {
		return nil, engine.Skip(why)
	}
	quoted := make([]string, len(todo))
	for i, n := range todo {
		quoted[i] = engine.Quote(n)
	}
	summary := "purge " + strings.Join(quoted, " ")
	if why != "" {
		summary += "; " + why
	}
	return change(h, summary, "remove packages", remove+strings.Join(quoted, " ")), nil
}

// packageCmds are, per package manager, the command that lists installed
// package names and the prefix that removes the names appended to it.
func packageCmds(pm engine.PackageManager) (list, remove string, err error) {
	switch pm {
	case engine.PkgApt:
		// purge, not remove: conffiles apply never saw must go too, or the
		// host is not back as it was.
		return `dpkg-query -W -f='${Status} ${Package}\n' 2>/dev/null | awk '$3 == "installed" {print $4}'`,
			"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y ", nil
	case engine.PkgDnf, engine.PkgYum:
		// rpm -e would refuse what others depend on; dnf/yum remove take
		// the dependants along, as apt-get purge does.
		return `rpm -qa --qf '%{NAME}\n'`, string(pm) + " remove -y ", nil
	}
	return "", "", fmt.Errorf("unsupported package manager %q", pm)
}

// accountStep removes a user or group apply (or its packages) created.
type accountStep struct {
	u     UserUndo
	group bool
	kept  *bool // set by packagesStep when it kept a package
}

func (s accountStep) Title() string {
	if s.group {
		return "remove group " + s.u.Name
	}
	return "remove user " + s.u.Name
}

func (s accountStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	db, del := "passwd", "userdel "
	if s.group {
		db, del = "group", "groupdel "
	}
	if s.u.ByPackage && *s.kept {
		return nil, engine.Skip("kept: a package apply installed stays on this host (see remove packages) and may need it")
	}
	q := engine.Quote(s.u.Name)
	res, err := h.Conn.Run(ctx, "getent "+db+" "+q)
	if err != nil {
		return nil, fmt.Errorf("query %s %s: %w", db, s.u.Name, err)
	}
	switch res.ExitCode {
	case 2: // no such entry
		return nil, nil
	case 0:
	default:
		return nil, res.ExitError("query " + db + " " + s.u.Name)
	}
	cmd := del + q
	if s.u.Home != "" {
		if err := removable(s.u.Home); err != nil {
			return nil, err
		}
		cmd += " && rm -rf " + engine.Quote(s.u.Home)
	}
	return change(h, s.Title(), s.Title(), cmd), nil
}

// hostnameStep sets the running hostname back; /etc/hostname was already
// restored (or removed) as a file.
type hostnameStep struct{ prev string }

func (s hostnameStep) Title() string { return "restore hostname" }

func (s hostnameStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	if s.prev == "" {
		return nil, engine.Skip("no previous hostname recorded")
	}
	out, err := run(ctx, h, "read hostname", "hostname")
	if err != nil {
		return nil, err
	}
	if cur := strings.TrimSpace(out); cur != s.prev {
		q := engine.Quote(s.prev)
		return change(h, fmt.Sprintf("hostname %s -> %s", cur, s.prev), "restore hostname",
			"hostname "+q+" 2>/dev/null || hostnamectl --transient set-hostname "+q), nil
	}
	return nil, nil
}

// timezoneStep sets the timezone back.
type timezoneStep struct{ prev string }

func (s timezoneStep) Title() string { return "restore timezone" }

func (s timezoneStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	if s.prev == "" {
		return nil, engine.Skip("no previous timezone recorded")
	}
	out, err := run(ctx, h, "read timezone", "timedatectl show -p Timezone --value")
	if err != nil {
		return nil, err
	}
	if cur := strings.TrimSpace(out); cur != s.prev {
		return change(h, fmt.Sprintf("timezone %s -> %s", cur, s.prev), "restore timezone",
			"timedatectl set-timezone "+engine.Quote(s.prev)), nil
	}
	return nil, nil
}

// forgetStep removes the state dir: journal and backups. It runs last, in
// a play of its own, so that it never runs when an undo failed.
type forgetStep struct{ dir string }

func (s forgetStep) Title() string { return "remove " + s.dir }

func (s forgetStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	if !strings.HasPrefix(s.dir, "/") || s.dir == "/" {
		return nil, fmt.Errorf("refusing to remove state dir %q", s.dir)
	}
	res, err := h.Conn.Run(ctx, "test -e "+engine.Quote(s.dir))
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", s.dir, err)
	}
	if !res.OK() {
		return nil, nil
	}
	return change(h, "remove the journal and backups in "+s.dir, "remove "+s.dir, "rm -rf "+engine.Quote(s.dir)), nil
}

// nothingRecorded is the one step of a host without a journal.
type nothingRecorded struct{}

func (nothingRecorded) Title() string {
	return "nothing recorded: apply never ran here or teardown already done"
}

func (n nothingRecorded) Check(context.Context, *engine.Host) (*engine.Change, error) {
	return nil, engine.Skip(n.Title())
}

// journalError fails a host whose journal could not be read.
type journalError struct{ err error }

func (journalError) Title() string { return "read journal" }

func (s journalError) Check(context.Context, *engine.Host) (*engine.Change, error) { return nil, s.err }

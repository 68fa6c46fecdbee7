package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Package states.
const (
	Present = "present"
	Absent  = "absent"
)

// DefaultAptMaxAge is how old apt's package lists may be before Package
// refreshes them (see the package comment).
const DefaultAptMaxAge = 24 * time.Hour

// aptLockWait makes apt wait for a lock held by e.g. unattended-upgrades on
// a freshly booted Ubuntu instead of failing at once; apt versions without
// the option ignore it.
const aptLockWait = "-o DPkg::Lock::Timeout=300"

// Package makes sure packages are installed (or removed), acting only on
// the ones that differ. Names are plain package names, no version pins.
type Package struct {
	Names        []string
	State        string        // Present (default) or Absent
	UpdateMaxAge time.Duration // apt only; 0 means DefaultAptMaxAge
	Label        string        // title override; default "packages <names>"
}

func (p Package) Title() string {
	if p.Label != "" {
		return p.Label
	}
	verb := "packages "
	if p.State == Absent {
		verb = "remove packages "
	}
	return verb + strings.Join(p.Names, " ")
}

func (p Package) Probes(h *Host) []string {
	if len(p.Names) == 0 {
		return nil
	}
	if q, err := packageQueryCmd(h.Facts, p.Names); err == nil {
		return []string{q}
	}
	return nil
}

func (p Package) Check(ctx context.Context, h *Host) (*Change, error) {
	if p.State != "" && p.State != Present && p.State != Absent {
		return nil, fmt.Errorf("package state %q: want %q or %q", p.State, Present, Absent)
	}
	if len(p.Names) == 0 {
		return nil, nil
	}
	query, err := packageQueryCmd(h.Facts, p.Names)
	if err != nil {
		return nil, err
	}
	res, err := h.run(ctx, "query packages", query)
	if err != nil {
		return nil, err
	}
	installed, err := parsePackageQuery(res.Stdout, p.Names)
	if err != nil {
		return nil, err
	}
	var todo []string
	for _, n := range p.Names {
		if installed[n] == (p.State == Absent) {
			todo = append(todo, n)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	cmds, err := packageChangeCmds(h.Facts, todo, p.State == Absent, p.UpdateMaxAge)
	if err != nil {
		return nil, err
	}
	if p.State == Absent {
		// Teardown reinstalls what apply removed (not its dependencies,
		// which a removal leaves in place anyway).
		undo, err := p.reinstall(h.Facts, todo)
		if err != nil {
			return nil, err
		}
		return &Change{
			Summary: "remove " + strings.Join(todo, " "),
			Records: []Record{undo},
			Apply: func(ctx context.Context) error {
				for _, c := range cmds {
					if _, err := h.run(ctx, c.what, c.cmd); err != nil {
						return err
					}
				}
				return nil
			},
		}, nil
	}
	planOf(ctx).install(todo...)
	c := &Change{Summary: "install " + strings.Join(todo, " ")}
	for _, n := range todo {
		c.Records = append(c.Records, Record{Kind: RecordPackageInstalled, Name: n})
	}
	asked := map[string]bool{}
	for _, n := range todo {
		asked[n] = true
	}
	c.Apply = func(ctx context.Context) error {
		for i, pc := range cmds {
			if i < len(cmds)-1 {
				if _, err := h.run(ctx, pc.what, pc.cmd); err != nil {
					return err
				}
				continue
			}
			// The install itself also reports what it added beyond the
			// names asked for (dependencies, and the users and groups
			// their scripts made), so teardown can remove exactly that.
			res, err := h.Conn.Run(ctx, withNewThingsCmd(h.Facts, pc.cmd))
			if err != nil {
				return fmt.Errorf("%s: %w", pc.what, err)
			}
			c.Records = append(c.Records, parseNewThings(res.Stdout, asked)...)
			if err := res.ExitError(pc.what); err != nil {
				return err
			}
		}
		return nil
	}
	return c, nil
}

// ViaPackage marks records of what a package install brought along.
const ViaPackage = "package"

// hostInventoryCmd prints "<record kind> <name>" for every installed
// package, user and group, sorted for comm.
func hostInventoryCmd(f Facts) string {
	pkgs := `rpm -qa --qf 'package_installed %{NAME}\n'`
	if f.Family == FamilyDebian {
		pkgs = `dpkg-query -W -f='${Status} ${Package}\n' 2>/dev/null | awk '$3 == "installed" {print "package_installed " $4}'`
	}
	return "{ " + pkgs + `; getent passwd | cut -d: -f1 | sed 's/^/user_created /'; getent group | cut -d: -f1 | sed 's/^/group_created /'; } | LC_ALL=C sort -u`
}

// withNewThingsCmd runs install with its output on stderr and prints on
// stdout only what is on the host afterwards that was not before.
func withNewThingsCmd(f Facts, install string) string {
	inv := hostInventoryCmd(f)
	return "t=$(mktemp -d) || exit 1; " + inv + ` > "$t/before"; { ` + install + `; } >&2; rc=$?; ` +
		inv + ` > "$t/after"; LC_ALL=C comm -13 "$t/before" "$t/after"; rm -rf "$t"; exit $rc`
}

// parseNewThings turns withNewThingsCmd's output into records, leaving out
// the packages already recorded before the install ran.
func parseNewThings(out string, asked map[string]bool) []Record {
	var recs []Record
	for _, l := range strings.Split(out, "\n") {
		kind, name, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok || name == "" {
			continue
		}
		switch k := RecordKind(kind); k {
		case RecordPackageInstalled:
			if !asked[name] {
				recs = append(recs, Record{Kind: k, Name: name, Via: ViaPackage})
			}
		case RecordUserCreated, RecordGroupCreated:
			recs = append(recs, Record{Kind: k, Name: name, Via: ViaPackage})
		}
	}
	return recs
}

// purposeCmd is a command with the purpose errors report it by.
type purposeCmd struct{ what, cmd string }

// packageQueryCmd prints "<name> installed" or "<name> missing" per name,
// keyed by the name asked for (dpkg-query and rpm disagree on everything
// else, including how they report unknown names).
func packageQueryCmd(f Facts, names []string) (string, error) {
	test, err := packageInstalledTest(f)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`for p in %s; do if %s; then echo "$p installed"; else echo "$p missing"; fi; done`, quoteAll(names), test), nil
}

// reinstall is the journal record that makes teardown install names again.
func (p Package) reinstall(f Facts, names []string) (Record, error) {
	install, err := packageChangeCmds(f, names, false, p.UpdateMaxAge)
	if err != nil {
		return Record{}, err
	}
	var cmds []string
	for _, c := range install {
		cmds = append(cmds, c.cmd)
	}
	all, err := allInstalledCmd(f, names)
	if err != nil {
		return Record{}, err
	}
	return Record{Kind: RecordCommandRan, Name: "remove packages " + strings.Join(names, " "), Undo: strings.Join(cmds, " && "), UndoUnless: all}, nil
}

// allInstalledCmd exits 0 when every one of names is installed.
func allInstalledCmd(f Facts, names []string) (string, error) {
	test, err := packageInstalledTest(f)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`for p in %s; do %s || exit 1; done`, quoteAll(names), test), nil
}

// packageInstalledTest is a shell test that package "$p" is installed.
func packageInstalledTest(f Facts) (string, error) {
	switch f.Family {
	case FamilyDebian:
		// "install ok installed" and "hold ok installed" count; a package
		// removed but not purged ("deinstall ok config-files") does not.
		return `dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$'`, nil
	case FamilyRHEL:
		return `rpm -q --quiet "$p"`, nil
	}
	return "", f.unsupported()
}

// InstalledPackages says which of names are installed on h: read-only, for
// checks that must not touch the host (preflight's conflicts).
// PackageQueryCmd is the command InstalledPackages runs, to read in a batch.
func PackageQueryCmd(f Facts, names []string) (string, error) { return packageQueryCmd(f, names) }

func InstalledPackages(ctx context.Context, h *Host, names []string) (map[string]bool, error) {
	query, err := packageQueryCmd(h.Facts, names)
	if err != nil {
		return nil, err
	}
	res, err := h.run(ctx, "query packages", query)
	if err != nil {
		return nil, err
	}
	return parsePackageQuery(res.Stdout, names)
}

// PackageFilesCmd prints the files, matching the extended regexp match,
// that package pkg and the packages it depends on (two levels deep, so a
// meta-package's real payload is found) own. A package that is not
// installed prints nothing.
func PackageFilesCmd(f Facts, pkg, match string) (string, error) {
	var deps, files string
	switch f.PackageManager {
	case PkgApt:
		deps = `dpkg-query -W -f='${Depends},${Pre-Depends}' "$1" 2>/dev/null | tr ',|' '\n\n' | sed 's/(.*//; s/:.*//; s/ //g'`
		files = `dpkg-query -L "$q" 2>/dev/null`
	case PkgDnf, PkgYum:
		deps = `rpm -qR "$1" 2>/dev/null | awk '$1 !~ /^rpmlib\(/ {print $1}' | xargs -r rpm -q --whatprovides --qf '%{NAME}\n' 2>/dev/null`
		files = `rpm -ql "$q" 2>/dev/null`
	default:
		return "", f.unsupported()
	}
	return `deps() { ` + deps + ` | grep -v '^$' | sort -u; }; p=` + Quote(pkg) + `; l1=$(deps "$p"); l2=$(for d in $l1; do deps "$d"; done); ` +
		`for q in $(printf '%s\n' "$p" $l1 $l2 | sort -u); do ` + files + `; done | grep -E ` + Quote(match) + ` | sort -u; true`, nil
}

// PackageLockCmd prints one line "<pid> <command> <lock file>" for every
// process holding the package manager's lock, nothing when it is free:
// what an install would otherwise block on (apt waits aptLockWait, dnf
// forever) or fail on. Read from /proc/locks and the pid files, not with
// lslocks or fuser, which a minimal host may lack.
func PackageLockCmd(f Facts) (string, error) {
	var locks, pidFiles string
	switch f.PackageManager {
	case PkgApt:
		locks = "/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock"
	case PkgDnf, PkgYum:
		locks = "/var/lib/rpm/.rpm.lock"
		// dnf and yum also keep pid files.
		pidFiles = `; for f in /var/run/yum.pid /var/cache/dnf/metadata_lock.pid /var/lib/dnf/rpmdb_lock.pid /var/run/dnf.pid; do` +
			` [ -s "$f" ] || continue; p=$(tr -dc 0-9 < "$f"); [ -n "$p" ] && [ -r "/proc/$p/comm" ] && echo "$p $(cat /proc/$p/comm) $f"; done; true`
	default:
		return "", f.unsupported()
	}
	return lockHoldersCmd(locks) + pidFiles, nil
}

// lockHoldersCmd is PackageLockCmd's /proc/locks part for the given files.
func lockHoldersCmd(locks string) string {
	// /proc/locks: "1: POSIX ADVISORY WRITE <pid> <maj>:<min>:<inode> ..."
	// ("->" marks waiters, which hold nothing). Matching on the inode alone
	// is enough on one host's /var.
	return `for f in ` + locks + `; do [ -e "$f" ] || continue; i=$(stat -c %i "$f");` +
		` awk -v i="$i" '$2 != "->" { n = split($6, a, ":"); if (a[n] == i) print $5 }' /proc/locks | sort -u |` +
		` while read -r p; do [ -r "/proc/$p/comm" ] && echo "$p $(cat /proc/$p/comm) $f"; done; done; true`
}

func parsePackageQuery(out string, names []string) (map[string]bool, error) {
	installed := map[string]bool{}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, state, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		seen[name] = true
		installed[name] = state == "installed"
	}
	for _, n := range names {
		if !seen[n] {
			return nil, fmt.Errorf("query packages: no answer for %q in %q", n, out)
		}
	}
	return installed, nil
}

// packageChangeCmds returns the commands that install (or remove) names.
func packageChangeCmds(f Facts, names []string, remove bool, maxAge time.Duration) ([]purposeCmd, error) {
	list := quoteAll(names)
	switch f.PackageManager {
	case PkgApt:
		if remove {
			return []purposeCmd{{"remove packages", "DEBIAN_FRONTEND=noninteractive apt-get " + aptLockWait + " remove -y " + list}}, nil
		}
		if maxAge <= 0 {
			maxAge = DefaultAptMaxAge
		}
		return []purposeCmd{
			{"apt-get update", aptUpdateIfStaleCmd(maxAge)},
			{"install packages", "DEBIAN_FRONTEND=noninteractive apt-get " + aptLockWait + " install -y --no-install-recommends " + list},
		}, nil
	case PkgDnf, PkgYum:
		verb := " install -y "
		if remove {
			verb = " remove -y "
		}
		what := "install packages"
		if remove {
			what = "remove packages"
		}
		return []purposeCmd{{what, string(f.PackageManager) + verb + list}}, nil
	}
	return nil, f.unsupported()
}

// aptUpdateIfStaleCmd refreshes the package lists only when none of them is
// younger than maxAge (a fresh host has none at all).
func aptUpdateIfStaleCmd(maxAge time.Duration) string {
	minutes := max(int(maxAge.Minutes()), 1)
	return fmt.Sprintf("if ! find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -mmin -%d 2>/dev/null | grep -q .; then apt-get %s update -q; fi", minutes, aptLockWait)
}

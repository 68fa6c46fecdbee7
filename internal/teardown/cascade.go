package teardown

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// Removing a package takes along whatever depends on it. A package that was
// installed after apply and depends on one apply installed (a module for the
// nginx apply brought) would go too, and teardown must never remove what
// apply did not install. So the removal is simulated first, and a package
// whose removal would take an outsider along is kept, and said so.

// simulateFunc returns every package that removing names would remove,
// names included.
type simulateFunc func(ctx context.Context, names []string) ([]string, error)

// purgeable splits names into what can be removed and what must stay
// because its removal would take an outsider (a package not in names)
// along; outsiders lists those.
func purgeable(ctx context.Context, names []string, simulate simulateFunc) (remove, keep, outsiders []string, err error) {
	taken, err := simulate(ctx, names)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(notIn(taken, names)) == 0 {
		return names, nil, nil, nil
	}
	for _, n := range names {
		taken, err := simulate(ctx, []string{n})
		if err != nil {
			return nil, nil, nil, err
		}
		if out := notIn(taken, names); len(out) > 0 {
			keep = append(keep, n)
			for _, o := range out {
				if !slices.Contains(outsiders, o) {
					outsiders = append(outsiders, o)
				}
			}
			continue
		}
		remove = append(remove, n)
	}
	if len(remove) > 0 { // what is left must be safe to remove together too
		taken, err := simulate(ctx, remove)
		if err != nil {
			return nil, nil, nil, err
		}
		if out := notIn(taken, names); len(out) > 0 {
			return nil, names, append(outsiders, out...), nil
		}
	}
	return remove, keep, outsiders, nil
}

func notIn(list, set []string) []string {
	var out []string
	for _, x := range list {
		if !slices.Contains(set, x) {
			out = append(out, x)
		}
	}
	return out
}

// simulateCmd is the dry run of removing names, per package manager.
func simulateCmd(pm engine.PackageManager, names []string) (string, error) {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = engine.Quote(n)
	}
	switch pm {
	case engine.PkgApt:
		return "apt-get -s purge " + strings.Join(quoted, " "), nil
	case engine.PkgDnf, engine.PkgYum:
		// rpm's test mode lists, and refuses, what depends on names
		// from outside them: exactly what dnf/yum remove would take.
		return "rpm -e --test " + strings.Join(quoted, " ") + " 2>&1", nil
	}
	return "", fmt.Errorf("unsupported package manager %q", pm)
}

// parseSimulation reads simulateCmd's output: the packages the removal of
// names would take.
func parseSimulation(pm engine.PackageManager, names []string, out string) []string {
	taken := slices.Clone(names)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch pm {
		case engine.PkgApt: // "Purg nginx [1.22.1-9]" / "Remv libfoo [1.0]"
			if len(f) >= 2 && (f[0] == "Purg" || f[0] == "Remv") && !slices.Contains(taken, f[1]) {
				taken = append(taken, f[1])
			}
		default: // "	nginx-filesystem is needed by (installed) nginx-mod-x-1:1.20.1-14.el9.x86_64"
			if i := strings.Index(line, "is needed by (installed) "); i >= 0 {
				nvra := strings.TrimSpace(line[i+len("is needed by (installed) "):])
				if n := rpmName(nvra); !slices.Contains(taken, n) {
					taken = append(taken, n)
				}
			}
		}
	}
	return taken
}

// rpmName is the name in name-[epoch:]version-release.arch.
func rpmName(nvra string) string {
	for i := 0; i < 2; i++ {
		if j := strings.LastIndex(nvra, "-"); j > 0 {
			nvra = nvra[:j]
		}
	}
	return nvra
}

// hostSimulator runs the dry run on h.
func hostSimulator(h *engine.Host) simulateFunc {
	return func(ctx context.Context, names []string) ([]string, error) {
		cmd, err := simulateCmd(h.Facts.PackageManager, names)
		if err != nil {
			return nil, err
		}
		res, err := h.Conn.Run(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("simulate removing packages: %w", err)
		}
		// rpm -e --test exits 1 when something depends on names: that is
		// the answer, not a failure. apt-get -s fails only on real errors.
		if h.Facts.PackageManager == engine.PkgApt {
			if err := res.ExitError("simulate removing packages"); err != nil {
				return nil, err
			}
		}
		return parseSimulation(h.Facts.PackageManager, names, res.Stdout), nil
	}
}

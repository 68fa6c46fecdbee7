package teardown

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// fakeSimulator removes names plus, transitively, what rdeps says depends
// on them.
func fakeSimulator(rdeps map[string][]string) simulateFunc {
	return func(_ context.Context, names []string) ([]string, error) {
		taken := slices.Clone(names)
		for i := 0; i < len(taken); i++ {
			for _, r := range rdeps[taken[i]] {
				if !slices.Contains(taken, r) {
					taken = append(taken, r)
				}
			}
		}
		return taken, nil
	}
}

func TestPurgeableKeepsWhatWouldTakeOutsidersAlong(t *testing.T) {
	ours := []string{"nginx", "nginx-common", "libnginx", "memcached"}
	for _, tc := range []struct {
		name                    string
		rdeps                   map[string][]string
		remove, keep, outsiders []string
	}{
		{"nothing else depends", map[string][]string{"nginx-common": {"nginx"}, "libnginx": {"nginx"}}, ours, nil, nil},
		{"a module installed later needs nginx-common",
			map[string][]string{"nginx-common": {"nginx", "nginx-mod-x"}, "libnginx": {"nginx"}},
			[]string{"nginx", "libnginx", "memcached"}, []string{"nginx-common"}, []string{"nginx-mod-x"}},
		{"a tool needs libnginx through nginx",
			map[string][]string{"libnginx": {"nginx"}, "nginx": {"tool"}},
			[]string{"nginx-common", "memcached"}, []string{"nginx", "libnginx"}, []string{"tool"}},
	} {
		remove, keep, outsiders, err := purgeable(context.Background(), ours, fakeSimulator(tc.rdeps))
		if err != nil || !slices.Equal(remove, tc.remove) || !slices.Equal(keep, tc.keep) || !slices.Equal(outsiders, tc.outsiders) {
			t.Errorf("%s: remove %v keep %v outsiders %v (%v), want %v %v %v", tc.name, remove, keep, outsiders, err, tc.remove, tc.keep, tc.outsiders)
		}
	}
}

// The RHEL path cannot run here: what it would run, and how its answer is read.
func TestSimulationPerFamily(t *testing.T) {
	for pm, want := range map[engine.PackageManager]string{
		engine.PkgApt: "apt-get -s purge nginx 'a b'",
		engine.PkgDnf: "rpm -e --test nginx 'a b' 2>&1",
		engine.PkgYum: "rpm -e --test nginx 'a b' 2>&1",
	} {
		if got, err := simulateCmd(pm, []string{"nginx", "a b"}); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", pm, got, err, want)
		}
	}
	apt := "NOTE: simulation\nPurg nginx [1.22.1-9]\nPurg nginx-mod-x [1.0]\nRemv libfoo [2]\nConf x\n"
	if got := parseSimulation(engine.PkgApt, []string{"nginx"}, apt); !slices.Equal(got, []string{"nginx", "nginx-mod-x", "libfoo"}) {
		t.Errorf("apt: %v", got)
	}
	rpm := "error: Failed dependencies:\n\tnginx-filesystem is needed by (installed) nginx-1:1.20.1-14.el9_2.1.x86_64\n" +
		"\tnginx-filesystem is needed by (installed) nginx-mod-stream-1:1.20.1-14.el9_2.1.x86_64\n"
	if got := parseSimulation(engine.PkgDnf, []string{"nginx-filesystem"}, rpm); !slices.Equal(got, []string{"nginx-filesystem", "nginx", "nginx-mod-stream"}) {
		t.Errorf("rpm: %v", got)
	}
}

// End to end over the stubs: a module installed after apply needs
// nginx-common, so teardown keeps nginx-common (and the package-made
// account), purges the rest, and says why.
func TestTeardownKeepsWhatALaterPackageNeeds(t *testing.T) {
	l := newLab(t)
	l.apply("apply v1\n")
	l.write(filepath.Join(l.stub, "pkg/nginx-mod-x"), "", 0o644) // installed by hand after apply
	l.write(filepath.Join(l.stub, "rdeps/nginx-common"), "nginx nginx-mod-x\n", 0o644)
	_, evs := l.teardown(Options{})
	for _, p := range []string{"nginx-common", "nginx-mod-x"} {
		if _, err := os.Stat(filepath.Join(l.stub, "pkg", p)); err != nil {
			t.Errorf("%s removed", p)
		}
	}
	for _, p := range []string{"nginx", "libnginx", "memcached"} {
		if _, err := os.Stat(filepath.Join(l.stub, "pkg", p)); err == nil {
			t.Errorf("%s kept", p)
		}
	}
	if _, err := os.Stat(filepath.Join(l.stub, "users/memcache")); err != nil {
		t.Error("the package-made account went although a package stays")
	}
	var summary string
	for _, e := range evs {
		if e.Step == "remove packages" {
			summary = e.Summary
		}
	}
	if !strings.Contains(summary, "kept nginx-common: removing them would also remove nginx-mod-x, which apply did not install") {
		t.Errorf("summary %q", summary)
	}
}

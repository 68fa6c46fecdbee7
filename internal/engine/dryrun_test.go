package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// planHost is a stubbed host whose package manager behaves like its
// family's: on Debian an install enables and starts the package's service,
// on RHEL it only ships the unit. systemctl prints nothing from is-enabled
// for a unit no package shipped, as the real one does.
func planHost(t *testing.T, f Facts) (*Host, string) {
	h, c := newTestHost("h1")
	h.Facts = f
	state := stubTools(t, c)
	starts := "" // "&& touch ..." when the install starts the service
	if f.Family == FamilyDebian {
		starts = `&& touch "$STATE/enabled/$a" "$STATE/active/$a"`
	}
	install := fmt.Sprintf(`for a in "$@"; do case "$a" in -*|install|update|DPkg*|remove) ;; *) touch "$STATE/pkg/$a" %s;; esac; done`, starts)
	overrideStub(t, c, "apt-get", `echo "apt-get $*" >> "$STATE/log"; [ "$3" = update ] && exit 0; `+install)
	overrideStub(t, c, "dnf", `echo "dnf $*" >> "$STATE/log"; `+install)
	overrideStub(t, c, "rpm", `case "$1" in -q) [ -e "$STATE/pkg/$3" ];; -qa) for p in "$STATE"/pkg/*; do [ -e "$p" ] && echo "package_installed ${p##*/}"; done; true;; esac`)
	overrideStub(t, c, "systemctl", `echo "systemctl $*" >> "$STATE/log"
case "$1" in
is-active) [ -e "$STATE/active/$2" ] && { echo active; exit 0; }; echo inactive; exit 3;;
is-enabled) [ -e "$STATE/enabled/$2" ] && { echo enabled; exit 0; }; [ -e "$STATE/pkg/$2" ] && echo disabled; exit 1;;
enable) if [ "$2" = --now ]; then touch "$STATE/enabled/$3" "$STATE/active/$3"; else touch "$STATE/enabled/$2"; fi;;
start|restart) touch "$STATE/active/$2";;
try-restart) [ -e "$STATE/active/$2" ] && touch "$STATE/active/$2"; true;;
esac`)
	return h, state
}

func statuses(evs []Event) []string {
	var out []string
	for _, e := range stepEvents(evs) {
		out = append(out, e.Step+"="+string(e.Status))
	}
	return out
}

// The steps a dry run reports as would-change are exactly the steps the
// real run then changes, on both families, although a check reads state an
// earlier step would create.
func TestDryRunIsThePlan(t *testing.T) {
	for _, tc := range []struct {
		facts Facts
		want  []string // what the real run does
	}{
		{debianFacts, []string{
			"packages memcached=changed", "directory /srv/x=changed", "directory /srv/x again=ok",
			"service memcached=ok", // apt started it
			"restart memcached=changed", "memcached ready=ok",
		}},
		{rhelFacts, []string{
			"packages memcached=changed", "directory /srv/x=changed", "directory /srv/x again=ok",
			"service memcached=changed", // dnf only shipped the unit
			"restart memcached=changed", "memcached ready=ok",
		}},
	} {
		t.Run(string(tc.facts.Family), func(t *testing.T) {
			h, state := planHost(t, tc.facts)
			dir := filepath.Join(t.TempDir(), "srv", "x")
			steps := []Step{
				Package{Names: []string{"memcached"}},
				Directory{Path: dir, Label: "directory /srv/x"},
				Directory{Path: dir, Label: "directory /srv/x again"},
				Service{Name: "memcached", Package: "memcached", State: Started, Enabled: Bool(true)},
				Restart{Service: "memcached", Rolling: true, RestartNowIf: "true"},
				WaitFor{Label: "memcached ready", Condition: "test -e " + Quote(filepath.Join(state, "active", "memcached")), Timeout: time.Minute},
			}
			t0 := time.Now()
			rc, dry := converge(t, h, Options{DryRun: true}, steps...)
			if rc.Failed() {
				t.Fatalf("dry run failed: %v", rc.Hosts[0].Err)
			}
			if took := time.Since(t0); took > 30*time.Second {
				t.Fatalf("the dry run waited (%s)", took)
			}
			if log := stubLog(t, state); slices.ContainsFunc(log, func(l string) bool { return !strings.Contains(l, " is-") }) {
				t.Fatalf("the dry run changed something: %q", log)
			}
			rc, real := converge(t, h, Options{}, steps...)
			if rc.Failed() {
				t.Fatalf("real run failed: %v", rc.Hosts[0].Err)
			}
			if got := statuses(real); !slices.Equal(got, tc.want) {
				t.Fatalf("real run: %q, want %q", got, tc.want)
			}
			if d, r := statuses(dry), statuses(real); !slices.Equal(d, r) {
				t.Errorf("dry run said %q\nreal run did %q", d, r)
			}
			last := stepEvents(dry)[len(steps)-1]
			if !strings.Contains(last.Summary, "would wait up to 1m0s for memcached ready") {
				t.Errorf("the wait's summary: %q", last.Summary)
			}
		})
	}
}

// With nothing to change before it, a condition that does not hold is the
// failure the real run would end in, reported at once.
func TestDryRunWaitForFailsWhenNothingWouldChange(t *testing.T) {
	h, _ := newTestHost("h1")
	t0 := time.Now()
	rc, _ := converge(t, h, Options{DryRun: true}, WaitFor{Label: "never", Condition: "false", Timeout: time.Hour})
	if err := rc.Hosts[0].Err; err == nil || !strings.Contains(err.Error(), "no step of this run would change the host") {
		t.Fatalf("want the real run's failure, got %v", err)
	}
	if took := time.Since(t0); took > 30*time.Second {
		t.Fatalf("the dry run waited (%s)", took)
	}
}

// Each host of a run gets its own plan: what one would install says
// nothing about another.
func TestDryRunPlanIsPerHost(t *testing.T) {
	ctx := withDryRun(context.Background(), true)
	planOf(ctx).install("memcached")
	if withDryRun(context.Background(), true); planOf(withDryRun(context.Background(), true)).installs("memcached") {
		t.Fatal("a fresh plan knows another's packages")
	}
	if !planOf(ctx).installs("memcached") || IsDryRun(context.Background()) {
		t.Fatal("plan lost or real run taken for a dry run")
	}
}

//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// RunTeardown runs `clusterctl teardown -o json <args>` against the lab.
func RunTeardown(t testing.TB, args ...string) RunResult {
	t.Helper()
	return RunLab(t, "teardown", args...)
}

func mustTeardown(t *testing.T, args ...string) RunResult {
	t.Helper()
	res := RunTeardown(t, args...)
	if res.ExitCode != 0 {
		t.Fatalf("teardown %v exited %d:\n%s\nstderr: %s", args, res.ExitCode, strings.Join(res.Failures(), "\n"), lastLines(res.Stderr, 20))
	}
	return res
}

// TestTeardownRestoresPristineHosts: apply, a dry-run teardown that
// changes nothing, teardown, the hosts equal their pristine fingerprint;
// a second teardown finds nothing recorded and changes nothing.
func TestTeardownRestoresPristineHosts(t *testing.T) {
	needPristine(t)
	ensureApplied(t)
	applied := map[string]string{}
	for _, h := range HostNames() {
		applied[h] = fingerprintHost(t, h)
	}

	dry := mustTeardown(t, "--dry-run")
	if len(dry.Changed()) == 0 {
		t.Fatal("teardown --dry-run after apply: nothing would change")
	}
	for _, h := range HostNames() {
		if d := withoutTomcatRuntime(fingerprintDiff(applied[h], fingerprintHost(t, h))); d != "" {
			t.Fatalf("%s: teardown --dry-run changed the host:\n%s", h, d)
		}
	}

	res := mustTeardown(t)
	t.Logf("teardown in %s: %d changes", res.Wall.Round(time.Millisecond), len(res.Changed()))
	for _, hc := range res.PerHost {
		if hc.Changed == 0 {
			t.Errorf("%s: teardown changed nothing", hc.Host)
		}
	}
	assertPristine(t, "after apply + teardown")

	again := mustTeardown(t)
	if c := again.Changed(); len(c) != 0 {
		t.Errorf("second teardown changed: %q", c)
	}
	said := map[string]bool{}
	for _, e := range again.Steps {
		if strings.Contains(e.Step, "nothing recorded") {
			said[e.Host] = true
		}
	}
	for _, h := range HostNames() {
		if !said[h] {
			t.Errorf("%s: second teardown does not say there is nothing recorded", h)
		}
	}
	assertPristine(t, "after a second teardown")
}

// TestTeardownKeepsHandEdit: apply works again after a teardown; a managed
// file edited by hand is restored, and the edit is kept next to it.
func TestTeardownKeepsHandEdit(t *testing.T) {
	needPristine(t)
	ensureApplied(t)
	const edit = "# edited by hand after apply\n"
	RunOn(t, "proxy", "printf '%s' '"+edit+"' >> /etc/hosts")

	res := mustTeardown(t)
	var said bool
	for _, e := range res.Steps {
		if e.Host == "proxy" && strings.Contains(e.Step, "/etc/hosts") && strings.Contains(e.Summary, "edited by hand") {
			said = true
		}
	}
	if !said {
		t.Errorf("teardown does not say /etc/hosts was edited by hand:\n%s", strings.Join(res.Changed(), "\n"))
	}
	kept := strings.TrimSpace(RunOn(t, "proxy", "ls /etc/hosts.clusterctl-edited-*"))
	if strings.Count(kept, "\n") != 0 || kept == "" {
		t.Fatalf("want one kept copy, got %q", kept)
	}
	if got := RunOn(t, "proxy", "cat "+shellQuote(kept)); !strings.HasSuffix(got, edit) {
		t.Errorf("kept copy lacks the edit:\n%s", got)
	}
	RunOn(t, "proxy", "rm -f "+shellQuote(kept)) // the operator's business; the hosts end pristine
	assertPristine(t, "after the hand-edit teardown")
}

// TestTeardownKeepsWhatALaterPackageNeeds: an nginx module installed by
// hand after apply depends on the nginx apply installed. Teardown must not
// take the module along: it keeps nginx (and what nginx needs) and says
// why. The test takes the module and that nginx out afterwards, so the
// lab is pristine again for whatever runs next.
func TestTeardownKeepsWhatALaterPackageNeeds(t *testing.T) {
	ensureApplied(t)
	t.Cleanup(func() { assertPristine(t, "after the module and its nginx were purged") })
	purgePackagesAtEnd(t, "proxy", "pristine")
	RunOn(t, "proxy", "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends libnginx-mod-http-echo >/dev/null")
	res := mustTeardown(t)
	var said string
	for _, e := range res.Steps {
		if e.Host == "proxy" && e.Step == "remove packages" {
			said = e.Summary
		}
	}
	if !strings.Contains(said, "kept ") || !strings.Contains(said, "nginx") || !strings.Contains(said, "libnginx-mod-http-echo, which apply did not install") {
		t.Errorf("remove packages on proxy: %q, want nginx kept for libnginx-mod-http-echo", said)
	}
	installed := RunOn(t, "proxy", `dpkg-query -W -f='${Status} ${Package}\n' libnginx-mod-http-echo nginx nginx-common 2>/dev/null | awk '$3 == "installed" {print $4}' | sort | tr '\n' ' '`)
	if strings.TrimSpace(installed) != "libnginx-mod-http-echo nginx nginx-common" {
		t.Errorf("installed after teardown: %q, want the module and the nginx it needs", installed)
	}
	// Everything else apply installed went (chrony on the proxy).
	if out := RunOn(t, "proxy", "dpkg-query -W -f='${Status}' chrony 2>/dev/null || true"); strings.Contains(out, " installed") {
		t.Errorf("chrony still installed: %q", out)
	}
}

// withoutTomcatRuntime drops diff lines about what a running Tomcat makes
// by itself (work/, logs/, temp/ under its tree): not teardown's doing.
func withoutTomcatRuntime(diff string) string {
	var out []string
	for _, l := range strings.Split(diff, "\n") {
		if l == "" || strings.Contains(l, "## /usr/local |") && (strings.Contains(l, "/work") || strings.Contains(l, "/logs") || strings.Contains(l, "/temp")) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `clusterctl apply` converges the pristine lab into the seed's
// cluster, is idempotent, reports hand edits in --dry-run without touching
// them, and converges after being interrupted. The tests run in order and
// build on each other (pristine -> applied -> edited -> interrupted).

// services each lab host must run once applied.
var labServices = map[string][]string{
	"proxy": {"nginx", "chrony"},
	"t58":   {"tomcat", "memcached", "chrony"},
	"t68":   {"tomcat", "memcached", "chrony"},
}

// probeURL is the probe app through the proxy's .jsp location.
const probeURL = "http://10.250.0.8/probe/index.jsp"

var sessionID = regexp.MustCompile(`^[0-9A-F]{32}-n\d+\.t\d+$`)

type probeAnswer struct {
	Host    string `json:"host"`
	Route   string `json:"route"`
	Session string `json:"session"`
	Counter int    `json:"counter"`
}

// waitProbe polls the probe through nginx until it answers JSON with an
// MSM session id (Tomcat takes seconds to start after a restart).
func waitProbe(t *testing.T, timeout time.Duration) probeAnswer {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		resp, err := client.Get(probeURL)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = resp.Status + ": " + strings.TrimSpace(string(body))
			var a probeAnswer
			if resp.StatusCode == 200 && json.Unmarshal(body, &a) == nil && sessionID.MatchString(a.Session) {
				return a
			}
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: no probe answer with an MSM session id within %s; last: %s", probeURL, timeout, last)
		}
		time.Sleep(time.Second)
	}
}

func assertServicesActive(t *testing.T) {
	t.Helper()
	for host, units := range labServices {
		out, _, _ := TryRunOn(host, "systemctl is-active "+strings.Join(units, " "))
		states := strings.Fields(out)
		for i, u := range units {
			if i >= len(states) || states[i] != "active" {
				t.Errorf("%s: %s is %q, want active (is-active said %q)", host, u, at(states, i), out)
			}
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func assertNoChanges(t *testing.T, res RunResult) {
	t.Helper()
	if len(res.PerHost) != len(labServices) {
		t.Fatalf("recap has %d hosts, want %d", len(res.PerHost), len(labServices))
	}
	for _, h := range res.PerHost {
		if h.Changed != 0 || h.Failed != 0 {
			t.Errorf("%s: changed=%d failed=%d, want 0 and 0", h.Host, h.Changed, h.Failed)
		}
	}
	if t.Failed() {
		t.Logf("changed:\n%s", strings.Join(res.Changed(), "\n"))
	}
}

// On hosts never applied, `apply --dry-run --diff` is the first thing a
// careful operator runs: it must finish at once (it used to wait 2 min for
// a Tomcat only a real run starts, then fail), change nothing, show every
// file it would write, and list exactly the steps the real apply changes.
func TestDryRunOnPristineIsThePlan(t *testing.T) {
	ensurePristine(t)
	dry := RunApply(t, "--dry-run", "--diff")
	t.Logf("dry run on pristine hosts: exit %d after %s, %d would change", dry.ExitCode, dry.Wall.Round(time.Millisecond), len(dry.Changed()))
	if dry.ExitCode != 0 {
		t.Fatalf("dry run: exit %d:\n%s", dry.ExitCode, strings.Join(dry.Failures(), "\n"))
	}
	if dry.Wall > 15*time.Second {
		t.Errorf("dry run took %s: it waited for something only a real run would do", dry.Wall)
	}
	for _, h := range HostNames() {
		if d := fingerprintDiff(pristineFP[h], fingerprintHost(t, h)); d != "" {
			t.Errorf("%s: the dry run changed the host:\n%s", h, d)
		}
	}
	for _, e := range dry.Steps {
		if e.Status != "changed" || !writesFile(e) {
			continue
		}
		if e.Diff == "" {
			t.Errorf("%s %s: %s would write a file but --diff shows nothing", e.Host, e.Play, e.Step)
		}
	}
	for _, e := range dry.Steps {
		if strings.HasPrefix(e.Summary, "would wait") {
			t.Logf("%s %s: %s: %s", e.Host, e.Play, e.Step, e.Summary)
		}
	}
	res := ensureApplied(t)
	plan, did := planOf(dry), planOf(res)
	for k, st := range did {
		if plan[k] != st {
			t.Errorf("%s: the dry run said %q, the apply did %q", k, plan[k], st)
		}
	}
	for k, st := range plan {
		if _, ok := did[k]; !ok {
			t.Errorf("%s: the dry run said %q, the apply never ran it", k, st)
		}
	}
}

// writesFile: the steps that put a file's content on a host.
func writesFile(e StepEvent) bool {
	for _, p := range []string{"file ", "upload ", "block ", "chrony config", "memcached config"} {
		if strings.HasPrefix(e.Step, p) {
			return true
		}
	}
	return false
}

// planOf maps "host play: step" to its status.
func planOf(r RunResult) map[string]string {
	m := map[string]string{}
	for _, e := range r.Steps {
		m[e.Host+" "+e.Play+": "+e.Type+" "+e.Step] = e.Status
	}
	return m
}

func TestApplyPristine(t *testing.T) {
	ensurePristine(t)
	res := ensureApplied(t)
	t.Logf("pristine apply: %s wall, %d changes", res.Wall.Round(time.Millisecond), len(res.Changed()))
	for _, h := range res.PerHost {
		if h.Changed == 0 {
			t.Errorf("%s: nothing changed on a pristine host", h.Host)
		}
	}
	assertServicesActive(t)
	a := waitProbe(t, 2*time.Minute)
	t.Logf("probe through the proxy: %+v", a)
	// The unit is the only place Java is known: JAVA_HOME from java.home.
	if out := RunOn(t, "t58", "systemctl show -p Environment tomcat"); !strings.Contains(out, "JAVA_HOME=/usr/local/jdk") {
		t.Errorf("tomcat unit environment: %q", out)
	}
	// The lab's chrony drop-in (chronyd -x) is not apply's to remove.
	for host := range labServices {
		RunOn(t, host, "test -f /etc/systemd/system/chrony.service.d/clusterctl-lab-no-clock.conf")
	}
}

func TestApplySecondRunChangesNothing(t *testing.T) {
	res := ensureApplied(t)
	t.Logf("no-op apply: %s wall", res.Wall.Round(time.Millisecond))
	assertNoChanges(t, res)
}

func TestApplyDryRunReportsHandEdit(t *testing.T) {
	const ctx = "/usr/local/tomcat/conf/context.xml"
	const edit = "<!-- hand edit by e2e -->"
	RunOn(t, "t58", "echo '"+edit+"' >> "+ctx)

	res := RunApply(t, "--dry-run")
	if res.ExitCode != 0 {
		t.Fatalf("dry run exited %d: %v", res.ExitCode, res.Failures())
	}
	var steps, handlers, rolled []string
	for _, e := range res.Steps {
		if e.Status != "changed" {
			continue
		}
		if !e.DryRun {
			t.Errorf("changed event not marked dry_run: %+v", e)
		}
		key := e.Host + " " + e.Play + ": " + e.Step
		switch {
		case e.Type == "handler":
			handlers = append(handlers, key)
		case e.Play == "rollout":
			rolled = append(rolled, key)
		default:
			steps = append(steps, key)
		}
	}
	// The restart the file needs is rolled: t58 alone, drained first.
	if want := []string{"proxy rollout: drain t58", "t58 rollout: restart tomcat", "t58 rollout: tomcat ready", "proxy rollout: undrain t58"}; strings.Join(rolled, "|") != strings.Join(want, "|") {
		t.Errorf("would-roll steps: %q, want %q", rolled, want)
	}
	if want := "t58 msm: file " + ctx; len(steps) != 1 || steps[0] != want {
		t.Errorf("would-change steps: %q, want exactly [%q]", steps, want)
	}
	// The file's handler is reported as "would run", nothing else.
	if want := "t58 msm: restart tomcat"; len(handlers) != 1 || handlers[0] != want {
		t.Errorf("would-run handlers: %q, want [%q]", handlers, want)
	}
	if out := RunOn(t, "t58", "cat "+ctx); !strings.Contains(out, edit) {
		t.Fatalf("dry run changed %s: the hand edit is gone", ctx)
	}

	res = ensureApplied(t)
	// The file, its deferred handler, then the rollout's drain, restart and
	// undrain of t58 (its ready wait is "ok").
	if ch := res.Changed(); len(ch) != 5 {
		t.Errorf("apply after the edit changed %d things, want 5 (the file, the deferred restart, drain, restart, undrain):\n%s", len(ch), strings.Join(ch, "\n"))
	}
	if out := RunOn(t, "t58", "cat "+ctx); strings.Contains(out, edit) {
		t.Errorf("apply did not restore %s", ctx)
	}
	waitProbe(t, 2*time.Minute)
}

// A run interrupted with SIGINT in the middle, then re-run, converges to
// the same cluster: the second re-run changes nothing.
func TestApplyInterruptedConverges(t *testing.T) {
	// Undo things in several plays on every host, so the run has work left
	// when it is interrupted: t68 loses its whole Tomcat tree, so the
	// interrupt likely lands in its unpack (seconds long).
	RunOn(t, "t58", "systemctl stop tomcat")
	RunOn(t, "t68", "systemctl stop tomcat memcached && echo '# drift' >> /etc/memcached.conf && rm -rf \"$(readlink -f /usr/local/tomcat)\"")
	RunOn(t, "proxy", "rm -f /etc/nginx/nginx.conf")

	cmd := applyCmd(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt at the first change: mid-run, with changes made and others
	// (t68's Tomcat) still to come.
	changed := make(chan struct{}, 1)
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), `"status":"changed"`) {
				select {
				case changed <- struct{}{}:
				default:
				}
			}
		}
	}()
	select {
	case <-changed:
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Signal(syscall.SIGINT)
	<-done
	err = cmd.Wait()
	if err == nil {
		t.Fatalf("apply finished before the interrupt; the test proves nothing. Events:\n%s", strings.Join(lines, "\n"))
	}
	var rec RunResult
	parseEvents(t, []byte(strings.Join(lines, "\n")), &rec)
	t.Logf("interrupted run: %v; changed before the interrupt:\n%s", err, strings.Join(rec.Changed(), "\n"))

	res := ensureApplied(t)
	t.Logf("re-run after the interrupt changed:\n%s", strings.Join(res.Changed(), "\n"))
	assertNoChanges(t, ensureApplied(t))
	assertServicesActive(t)
	waitProbe(t, 2*time.Minute)
	if out := RunOn(t, "t68", "cat /etc/memcached.conf"); strings.Contains(out, "# drift") {
		t.Errorf("memcached.conf drift survived")
	}
}

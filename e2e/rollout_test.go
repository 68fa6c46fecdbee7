//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/internal/rollout"
)

// Day-2 safety under load, against whatever MSM the lab runs (real MSM in
// CI): 20 client sessions go through the proxy the whole time while a
// config change rolls Tomcat restarts across the live cluster, and every
// failed request, lost session and stale answer is counted.

// variantInventory writes the lab inventory with text replaced (pairs of
// old, new), next to it (so relative paths resolve the same).
func variantInventory(t testing.TB, name string, edits ...string) string {
	t.Helper()
	b, err := os.ReadFile(testLab.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("lab inventory lacks %q", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	p := filepath.Join(filepath.Dir(testLab.Inventory), name+".yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func startLoad(t testing.TB) *loadgen.Load {
	t.Helper()
	proxy := hostAddr(t, "proxy")
	// nginx's workers each keep a Tomcat that failed under them (an earlier
	// test's kill) as failed until traffic comes back; the first burst
	// then goes to the backup Tomcat for all but one request, moving
	// sessions the change under test never touched (seen in CI after the
	// hand-over test's kills: 8 sessions moved at the load's first
	// requests). Fresh workers count what this test's change does.
	RunOn(t, "proxy", "systemctl reload nginx && sleep 1")
	l, err := loadgen.Start(context.Background(), loadgen.Config{
		URLs: []string{"http://" + proxy + ":80/probe/"}, Sessions: 20, Duration: 3 * time.Minute, MaxRequests: 200_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// applyUnderLoad applies inv (with args added) while the load runs and
// returns the run and what the sessions saw.
func applyUnderLoad(t *testing.T, inv string, args ...string) (RunResult, loadgen.Report) {
	t.Helper()
	l := startLoad(t)
	time.Sleep(time.Second) // a steady load before the change
	res := runCmd(t, invCmd(t, inv, "apply", args...))
	time.Sleep(time.Second) // and after it
	rep := l.Stop()
	t.Logf("load: %s", rep)
	for _, s := range rep.Samples {
		t.Logf("  %s", s)
	}
	return res, rep
}

func rolledHosts(res RunResult) []string {
	var out []string
	for _, e := range res.Steps {
		if e.Play == rollout.Play && e.Step == "restart tomcat" && e.Status == "changed" {
			out = append(out, e.Host)
		}
	}
	return out
}

// takeoverWorks is the lab's own check, independent of clusterctl's:
// a session made on each Tomcat directly is loaded by the other with its
// counter.
func takeoverWorks(t *testing.T) bool {
	t.Helper()
	script := `req() { timeout 5 bash -c "exec 3<>/dev/tcp/$1/8080 && printf 'GET /probe/ HTTP/1.0\r\nHost: e2e\r\n$2\r\n' >&3 && cat <&3"; }
for p in "10.250.0.58 10.250.0.68" "10.250.0.68 10.250.0.58"; do set -- $p
  id=$(req $1 "" | grep -o '"session":"[^"]*"' | cut -d'"' -f4)
  req $2 "Cookie: JSESSIONID=$id\r\n" | grep -q '"counter":2,' || echo "broken $1 -> $2 ($id)"
done`
	out := RunOn(t, "proxy", script)
	if out != "" {
		t.Logf("takeover: %s", strings.TrimSpace(out))
	}
	return out == ""
}

// restart tomcat on a cluster that a memcached restart has left degraded
// (docs/msm.md: every other restart leaves spymemcached in one Tomcat
// with a half-closed connection), under load: the rollout must notice,
// heal, and only then drain. Without that gate the same run lost 11 of 20
// sessions (shown once by disabling ensureWhole).
func TestRestartTomcatUnderLoad(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	degraded := false
	for i := 0; i < 4 && !degraded; i++ {
		RunOn(t, "t68", "systemctl restart memcached")
		time.Sleep(3 * time.Second)
		degraded = !takeoverWorks(t)
	}
	t.Logf("cluster degraded by memcached restarts before the rollout: %v", degraded)
	loadStart := time.Now()
	l := startLoad(t)
	time.Sleep(time.Second)
	if degraded {
		// spymemcached sometimes reconnects by itself after a backoff;
		// ask again right before the rollout, whose gate is what is tested.
		degraded = !takeoverWorks(t)
		t.Logf("still degraded right before the rollout: %v", degraded)
	}
	res := RunLab(t, "restart", "tomcat")
	time.Sleep(time.Second)
	rep := l.Stop()
	t.Logf("load: %s", rep)
	if res.ExitCode != 0 {
		t.Fatalf("restart tomcat: exit %d:\n%s\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"), lastLines(res.Stdout+res.Stderr, 20))
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t68" {
		t.Errorf("restart tomcat restarted %q, want t58,t68", got)
	}
	if !rep.Clean() {
		t.Errorf("restart tomcat under load: %s; want 0 failed, 0 lost, 0 stale; samples %q\n%s", rep, rep.Samples, lastLines(res.Stdout, 12))
		logProxyTrail(t, loadStart)
	}
	// The gate may find spymemcached reconnected by itself after a pause
	// (seen once in CI: it waited 3 s, healed nothing, then drained); what
	// must hold is that it noticed.
	// Since the rollout reconciles first, its readiness look at each
	// Tomcat (a request on each Tomcat's own port) can itself make
	// spymemcached notice the dead connection before the first gate runs;
	// what must hold is what users saw (above) and a whole cluster after.
	if degraded && strings.Contains(res.Stdout, `"waited":0`) {
		t.Logf("the cluster was degraded before the rollout, but whole by its first gate")
	}
	if !takeoverWorks(t) {
		t.Error("restart tomcat left a cluster whose Tomcats cannot take over each other's sessions")
	}
	// --dry-run says the order and touches nothing.
	inv0 := RunOn(t, "t58", "systemctl show -p InvocationID --value tomcat")
	dry := RunLab(t, "restart", "tomcat", "--dry-run")
	if dry.ExitCode != 0 || !strings.Contains(dry.Stdout, `"restarted":["t58","t68"]`) {
		t.Errorf("restart --dry-run: exit %d:\n%s", dry.ExitCode, lastLines(dry.Stdout, 10))
	}
	if inv1 := RunOn(t, "t58", "systemctl show -p InvocationID --value tomcat"); inv1 != inv0 {
		t.Error("restart --dry-run restarted t58")
	}
}

func TestRolloutOfContextXMLUnderLoad(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	changed := variantInventory(t, "rollout-optimeout", "msm:\n", "msm:\n  operation_timeout: 1500ms\n")

	res, rep := applyUnderLoad(t, changed)
	if res.ExitCode != 0 {
		t.Fatalf("apply exit %d:\n%s\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"), lastLines(res.Stdout, 20))
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t68" {
		t.Errorf("rollout restarted %q, want t58,t68 in inventory order:\n%s", got, lastLines(res.Stdout, 20))
	}
	if rep.Requests < 200 || !rep.Clean() {
		t.Errorf("a rolled context.xml change under load: %s; want 0 failed, 0 lost, 0 stale", rep)
	}
	if again := runCmd(t, invCmd(t, changed, "apply")); again.ExitCode != 0 || len(again.Changed()) != 0 {
		t.Errorf("second apply: exit %d, changed %q", again.ExitCode, again.Changed())
	}

	// The same rollout without the drain (a hidden flag) must show what
	// users would see, or this test could not fail.
	res, rep = applyUnderLoad(t, testLab.Inventory, "--unsafe-no-drain")
	if res.ExitCode != 0 {
		t.Fatalf("apply back (no drain) exit %d:\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"))
	}
	if rep.Clean() {
		t.Errorf("without the drain the rollout saw nothing (%s): the load test cannot tell", rep)
	}
	// The undrained restarts made nginx's workers mark the Tomcats failed
	// (its passive check): an idle worker keeps that state until traffic
	// comes back, and then lets one request through at a time while the
	// others get 502. A reload starts workers with no such state (every
	// drain does one), so later tests do not count this one's aftermath.
	RunOn(t, "proxy", "systemctl reload nginx && sleep 1")
}

// A Tomcat that cannot start stops the rollout: the next host is never
// restarted, the broken one stays drained, users are served by the healthy
// one throughout; once the fault is gone, apply finishes the rollout.
func TestRolloutStopsAtABrokenTomcat(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	const dropIn = "/etc/systemd/system/tomcat.service.d/e2e-broken.conf"
	RunOn(t, "t58", "mkdir -p "+filepath.Dir(dropIn)+" && printf '[Service]\\nExecStartPre=/bin/false\\n' > "+dropIn)
	t.Cleanup(func() { TryRunOn("t58", "rm -f "+dropIn+" && systemctl daemon-reload && systemctl start tomcat") })
	before68 := RunOn(t, "t68", "systemctl show -p InvocationID --value tomcat")

	changed := variantInventory(t, "rollout-broken", "msm:\n", "msm:\n  operation_timeout: 1700ms\n")
	res, rep := applyUnderLoad(t, changed)
	if res.ExitCode != 1 {
		t.Fatalf("apply with t58 unable to start: exit %d, want 1:\n%s", res.ExitCode, lastLines(res.Stdout, 20))
	}
	if !strings.Contains(res.Stdout, `"failed_host":"t58"`) || !strings.Contains(res.Stdout, "stays drained") {
		t.Errorf("the rollout report does not name t58 and what to do:\n%s", lastLines(res.Stdout, 10))
	}
	if after := RunOn(t, "t68", "systemctl show -p InvocationID --value tomcat"); after != before68 {
		t.Error("t68 was restarted after t58 failed")
	}
	if ngx := RunOn(t, "proxy", "grep -c '10.250.0.58:8080.* down;' /etc/nginx/nginx.conf || true"); strings.TrimSpace(ngx) != "3" {
		t.Errorf("t58 is not down in all 3 upstream lines of nginx.conf (%s)", ngx)
	}
	if rep.Failed != 0 || rep.Lost != 0 || rep.Stale != 0 {
		t.Errorf("users saw the broken Tomcat: %s", rep)
	}

	// Once fixed, t58 is started again (by the unit's Restart= or by the
	// converge, its new config read at start, while still drained): the
	// rollout restarts it if it is running or else only undrains it once
	// ready, and restarts the pending t68.
	RunOn(t, "t58", "rm -f "+dropIn+" && systemctl daemon-reload")
	res = runCmd(t, invCmd(t, changed, "apply"))
	rolled := strings.Join(rolledHosts(res), ",")
	if res.ExitCode != 0 || !(rolled == "t58,t68" || rolled == "t68" && strings.Contains(res.Stdout, `"undrained":["t58"]`)) {
		t.Fatalf("apply after the fix: exit %d, restarted %q, want t68 restarted and t58 back:\n%s",
			res.ExitCode, rolled, lastLines(res.Stdout, 20))
	}
	if ngx := RunOn(t, "proxy", "grep -c ' down;' /etc/nginx/nginx.conf || true"); strings.TrimSpace(ngx) != "0" {
		t.Errorf("a Tomcat is still drained after the rollout finished (%s)", ngx)
	}
	// Back to the lab's own inventory for the tests after this one.
	if res := RunApply(t); res.ExitCode != 0 {
		t.Fatalf("apply of the lab inventory: exit %d", res.ExitCode)
	}
}

// idleSession is a client that made a session and then left it alone.
type idleSession struct {
	c  *http.Client
	id string
}

func getProbe(c *http.Client, url string) (session string, counter int, err error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var a struct {
		Session string `json:"session"`
		Counter int    `json:"counter"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
		return "", 0, fmt.Errorf("HTTP %d: %v", resp.StatusCode, err)
	}
	return a.Session, a.Counter, nil
}

// makeIdle creates n sessions through the proxy, one request each.
func makeIdle(t *testing.T, n int) []idleSession {
	t.Helper()
	out := make([]idleSession, n)
	for i := range out {
		jar, _ := cookiejar.New(nil)
		out[i].c = &http.Client{Jar: jar, Timeout: 10 * time.Second}
		id, counter, err := getProbe(out[i].c, probeURL)
		if err != nil || counter != 1 {
			t.Fatalf("idle session %d: %v (counter %d)", i, err, counter)
		}
		out[i].id = id
	}
	return out
}

// lostIdle touches every idle session once: one whose counter is not 2
// was lost (a new session) or served stale.
func lostIdle(t *testing.T, sessions []idleSession) (lost int) {
	t.Helper()
	for i, s := range sessions {
		id, counter, err := getProbe(s.c, probeURL)
		if err != nil || counter != 2 {
			lost++
			t.Logf("idle session %d (%s): now %s counter %d, %v", i, s.id, id, counter, err)
		}
	}
	return lost
}

// memcached restarts on a live cluster keep the session backups: 40 idle
// sessions, a memcached change rolled across both hosts, then a Tomcat
// killed: every session is still there (without the hand-over, real MSM
// lost 20 of 40 here).
func TestMemcachedRolloutKeepsIdleSessions(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	idle := makeIdle(t, 40)
	changed := variantInventory(t, "rollout-memcached", "memory_mb: 64", "memory_mb: 96")
	res := runCmd(t, invCmd(t, changed, "apply"))
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, `"memcached_restarted":["t58","t68"]`) {
		t.Fatalf("apply of a memcached change: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout, 15))
	}
	if got := RunOn(t, "t68", "ps -o args= -C memcached"); !strings.Contains(got, "-m 96") {
		t.Errorf("memcached on t68 does not run the new setting: %s", got)
	}
	RunOn(t, "t58", "systemctl kill -s KILL tomcat")
	t.Cleanup(func() { TryRunOn("t58", "systemctl start tomcat") })
	time.Sleep(2 * time.Second)
	if lost := lostIdle(t, idle); lost != 0 {
		t.Errorf("%d of 40 idle sessions lost after the memcached rollout and a Tomcat crash", lost)
	}
	RunOn(t, "t58", "systemctl start tomcat")
	waitProbe(t, 2*time.Minute)

	// Both at once, under load: memcached rolls first, then Tomcat.
	both := variantInventory(t, "rollout-both", "memory_mb: 64", "memory_mb: 80")
	both = variantFile(t, both, "msm:\n", "msm:\n  operation_timeout: 1200ms\n")
	res, rep := applyUnderLoad(t, both)
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, `"memcached_restarted":["t58","t68"]`) || strings.Join(rolledHosts(res), ",") != "t58,t68" {
		t.Fatalf("apply of memcached + MSM together: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout, 15))
	}
	if !rep.Clean() {
		t.Errorf("memcached and MSM changed in one apply under load: %s; want 0 failed, 0 lost, 0 stale", rep)
	}
	if res := RunApply(t); res.ExitCode != 0 {
		t.Fatalf("apply of the lab inventory: exit %d", res.ExitCode)
	}
}

// variantFile is variantInventory on a variant already written.
func variantFile(t *testing.T, file, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %q (%v)", file, old, err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// Ctrl-C right after the rollout drained t58: clusterctl finishes t58's
// turn (restarted, waited for, undrained: undrained as it was, its own
// session copies would answer older than what t68 wrote meanwhile), stops
// there and exits non-zero, so an interrupt never leaves a Tomcat out of
// service.
func TestRolloutInterruptFinishesTheDrainedHost(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	cmd := labCmd(t, "restart", "tomcat")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	interrupted := false
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !interrupted && strings.Contains(sc.Text(), `"step":"drain t58","status":"changed"`) {
			cmd.Process.Signal(os.Interrupt)
			interrupted = true
		}
	}
	err = cmd.Wait()
	if !interrupted {
		t.Fatalf("the rollout never drained t58:\n%s", strings.Join(lines, "\n"))
	}
	if err == nil {
		t.Error("an interrupted restart exited 0")
	}
	if ngx := RunOn(t, "proxy", "grep -c ' down;' /etc/nginx/nginx.conf || true"); strings.TrimSpace(ngx) != "0" {
		t.Errorf("t58 left drained after Ctrl-C (%s down lines):\n%s", strings.TrimSpace(ngx), lastLines(strings.Join(lines, "\n"), 6))
	}
	out := strings.Join(lines, "\n")
	if !strings.Contains(out, `"stopped":true`) || !strings.Contains(out, `"restarted":["t58"]`) {
		t.Errorf("the report does not say t58's turn was finished and the rollout stopped at a safe point:\n%s", lastLines(out, 4))
	}
	if !strings.Contains(out, `t68: tomcat restart pending`) {
		t.Errorf("the report does not say t68 is left for the next run:\n%s", lastLines(out, 2))
	}
	ensureApplied(t)
}

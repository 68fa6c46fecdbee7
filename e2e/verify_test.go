//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// `clusterctl verify` on the applied lab. A fresh cluster passes
// every health check and drill step and runs every service afterwards;
// each injected fault fails the right check with a reason an operator can
// act on; --no-drill changes nothing. Every fault is undone by re-applying,
// so the tests leave the lab converged for the teardown tests after them.

// verifyCheck is one `-o json` check event.
type verifyCheck struct {
	Type       string `json:"type"`
	Phase      string `json:"phase"`
	Host       string `json:"host"`
	Check      string `json:"check"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	LatencyMS  int64  `json:"latency_ms"`
	RecoveryMS int64  `json:"recovery_ms"`
}

type verifyRun struct {
	ExitCode int
	Checks   []verifyCheck
	Summary  string
	Stdout   string
	Stderr   string
}

// find returns host's check, failing the test if verify did not report it.
func (v verifyRun) find(t testing.TB, host, check string) verifyCheck {
	t.Helper()
	for _, c := range v.Checks {
		if c.Host == host && c.Check == check {
			return c
		}
	}
	t.Fatalf("verify reported no %q check for %s:\n%s", check, host, v.Stdout)
	return verifyCheck{}
}

func (v verifyRun) failed() []string {
	var out []string
	for _, c := range v.Checks {
		if c.Status == "failed" {
			out = append(out, c.Host+" "+c.Check+": "+c.Reason)
		}
	}
	return out
}

// runVerify runs `clusterctl -i <lab> verify -o json <args>`.
func runVerify(t testing.TB, args ...string) verifyRun {
	t.Helper()
	cmd := exec.Command(clusterctlBin(t), append([]string{"-i", testLab.Inventory, "verify", "-o", "json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	v := verifyRun{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		v.ExitCode = ee.ExitCode()
	case err != nil:
		t.Fatalf("clusterctl verify: %v", err)
	}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var c verifyCheck
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("verify -o json: not JSON: %q", sc.Text())
		}
		switch c.Type {
		case "check":
			v.Checks = append(v.Checks, c)
		case "summary":
			var s struct{ Summary string }
			json.Unmarshal(sc.Bytes(), &s)
			v.Summary = s.Summary
		}
	}
	t.Logf("verify %s: exit %d after %s: %s", strings.Join(args, " "), v.ExitCode, time.Since(start).Round(100*time.Millisecond), v.Summary)
	return v
}

// wantFailure asserts verify exited 1 with host's check failed and its
// reason holding every part.
func wantFailure(t *testing.T, v verifyRun, host, check string, parts ...string) {
	t.Helper()
	if v.ExitCode != 1 {
		t.Errorf("exit %d, want 1", v.ExitCode)
	}
	c := v.find(t, host, check)
	if c.Status != "failed" {
		t.Errorf("%s %s: %s (%s), want failed; all failures: %q", host, check, c.Status, c.Reason, v.failed())
	}
	for _, p := range parts {
		if !strings.Contains(c.Reason, p) {
			t.Errorf("%s %s: reason %q lacks %q", host, check, c.Reason, p)
		}
	}
	t.Logf("%s %s: %s", host, check, c.Reason)
}

// restoreByApply re-converges the lab after a fault.
func restoreByApply(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		ensureApplied(t)
		waitTomcatsServe(t)
	})
}

// applied converges the lab and waits until every Tomcat serves the probe
// itself: apply may just have restarted one, and a verify run while it
// starts would (rightly) fail its port check, and the drill would see one
// Tomcat only.
func applied(t *testing.T) {
	t.Helper()
	ensureApplied(t)
	waitTomcatsServe(t)
}

// waitTomcatsServe polls each Tomcat's probe directly (not via nginx).
func waitTomcatsServe(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, h := range []string{"t58", "t68"} {
		url := "http://" + hostAddr(t, h) + ":8080/probe/index.jsp"
		deadline := time.Now().Add(2 * time.Minute)
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
				err = errors.New(resp.Status)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: Tomcat does not serve the probe: %v", url, err)
			}
			time.Sleep(time.Second)
		}
	}
}

var drillSteps = []string{"1 new session", "2 stickiness", "3 backup in memcached", "4 memcached failover", "5 tomcat failover"}

func TestVerifyFreshCluster(t *testing.T) {
	applied(t)
	waitProbe(t, 2*time.Minute) // and through the proxy
	v := runVerify(t)
	if v.ExitCode != 0 {
		t.Errorf("exit %d on a freshly applied lab; failures:\n%s\nstderr: %s", v.ExitCode, strings.Join(v.failed(), "\n"), v.Stderr)
	}
	for _, c := range v.Checks {
		if c.Status != "ok" {
			t.Errorf("%s %s %s: %s", c.Host, c.Phase, c.Check, c.Status+": "+c.Reason)
		}
	}
	for _, s := range drillSteps {
		c := v.find(t, "cluster", s)
		t.Logf("drill %s: %s, latency %d ms: %s", s, c.Status, c.LatencyMS, c.Reason)
	}
	for _, s := range []string{"4 memcached failover", "5 tomcat failover"} {
		if c := v.find(t, "cluster", s); c.LatencyMS <= 0 {
			t.Errorf("%s: latency %d ms not measured", s, c.LatencyMS)
		}
	}
	// Every check verify lists ran on the hosts that have it.
	for host, checks := range map[string][]string{
		"proxy": {"ssh", "hostname", "timezone", "time sync", "/etc/hosts", "nginx.service", "nginx -t", "proxy .jsp route"},
		"t58": {"java", "tomcat.service", "tomcat port", "msm jars", "msm context.xml", "msm manager started",
			"memcached.service", "memcached listens", "memcached reachable from t68"},
		"t68": {"memcached reachable from t58"},
	} {
		for _, c := range checks {
			v.find(t, host, c)
		}
	}
	assertServicesActive(t)
	waitProbe(t, time.Minute)
}

// --no-drill is read-only: no service restarted, no file changed.
func TestVerifyNoDrillChangesNothing(t *testing.T) {
	applied(t)
	before := verifyFingerprint(t)
	v := runVerify(t, "--no-drill")
	if v.ExitCode != 0 {
		t.Errorf("exit %d; failures:\n%s", v.ExitCode, strings.Join(v.failed(), "\n"))
	}
	for _, c := range v.Checks {
		if c.Phase == "drill" {
			t.Errorf("--no-drill ran drill step %q", c.Check)
		}
	}
	after := verifyFingerprint(t)
	for host := range before {
		if before[host] != after[host] {
			t.Errorf("%s changed under verify --no-drill:\nbefore:\n%s\nafter:\n%s", host, before[host], after[host])
		}
	}
}

// verifyFingerprint: per host, each service's state and invocation (a
// restart changes it) and the checksums of the files apply manages.
func verifyFingerprint(t *testing.T) map[string]string {
	t.Helper()
	fp := map[string]string{}
	for host, units := range labServices {
		cmd := ""
		for _, u := range units {
			cmd += "echo " + u + " $(systemctl is-active " + u + ") $(systemctl show -p InvocationID --value " + u + "); "
		}
		cmd += "sha256sum /etc/hosts /etc/chrony/chrony.conf /etc/nginx/nginx.conf /etc/memcached.conf " +
			"/usr/local/tomcat/conf/context.xml /usr/local/tomcat/conf/server.xml /usr/local/tomcat/lib/*.jar " +
			"/etc/systemd/system/tomcat.service /usr/local/tomcat/webapps/probe/index.jsp 2>/dev/null; hostname; true"
		fp[host] = RunOn(t, host, cmd)
	}
	return fp
}

// memcached bound to 127.0.0.1 only on t68: the other Tomcat cannot reach it.
func TestVerifyMemcachedOnLoopback(t *testing.T) {
	applied(t)
	restoreByApply(t)
	RunOn(t, "t68", `sed -i 's/^-l .*/-l 127.0.0.1/' /etc/memcached.conf && systemctl restart memcached`)
	v := runVerify(t, "--no-drill")
	wantFailure(t, v, "t68", "memcached listens", "only on 127.0.0.1:11211", "-l 10.250.0.68")
	wantFailure(t, v, "t68", "memcached reachable from t58", "t58 cannot use memcached at 10.250.0.68:11211", "connection refused")
}

// t58's failoverNodes names t68's memcached instead of its own.
func TestVerifyWrongFailoverNodes(t *testing.T) {
	applied(t)
	restoreByApply(t)
	RunOn(t, "t58", `sed -i 's/failoverNodes="n1"/failoverNodes="n2"/' /usr/local/tomcat/conf/context.xml && grep -q 'failoverNodes="n2"' /usr/local/tomcat/conf/context.xml && systemctl restart tomcat`)
	waitTomcatsServe(t)
	v := runVerify(t)
	wantFailure(t, v, "t58", "msm context.xml", `failoverNodes="n2", want "n1"`)
	// The drill sees the effect: t58 puts new sessions on its own memcached.
	if c := v.find(t, "cluster", "1 new session"); c.Status != "failed" || !strings.Contains(c.Reason, "its failover node") {
		t.Errorf("drill step 1: %s %q", c.Status, c.Reason)
	}
	assertServicesActive(t)
}

// nginx balancing round-robin in front of sticky MSM: health passes, the
// drill catches the lost updates live and explains them.
func TestVerifyRoundRobin(t *testing.T) {
	applied(t)
	restoreByApply(t)
	RunOn(t, "proxy", `sed -i 's|proxy_pass http://$msm_upstream;|proxy_pass http://tomcat-servers;|' /etc/nginx/nginx.conf && ! grep -q 'msm_upstream;$' /etc/nginx/nginx.conf && nginx -t && systemctl reload nginx`)
	v := runVerify(t)
	wantFailure(t, v, "cluster", "2 stickiness", "LOST UPDATES", "t58", "t68", "stale copy", "nginx.balance: sticky")
	for _, s := range []string{"4 memcached failover", "5 tomcat failover"} {
		if c := v.find(t, "cluster", s); c.Status != "skipped" {
			t.Errorf("%s ran on a non-sticky cluster: %s %q", s, c.Status, c.Reason)
		}
	}
	for _, f := range v.failed() {
		if !strings.HasPrefix(f, "cluster ") {
			t.Errorf("a health check failed too: %s", f)
		}
	}
}

// The MSM jars gone from t68's Tomcat (the running JVM has them loaded, so
// only the files tell).
func TestVerifyMSMJarsMissing(t *testing.T) {
	applied(t)
	restoreByApply(t)
	RunOn(t, "t68", `mkdir -p /root/msm-moved && mv /usr/local/tomcat/lib/memcached-session-manager-*.jar /root/msm-moved/`)
	t.Cleanup(func() {
		RunOn(t, "t68", `mv /root/msm-moved/*.jar /usr/local/tomcat/lib/ 2>/dev/null; rm -rf /root/msm-moved`)
	})
	v := runVerify(t, "--no-drill")
	wantFailure(t, v, "t68", "msm jars", "missing in /usr/local/tomcat/lib", "memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar")
}

// t68 cut off the network: reported once, every other host still checked,
// the drill refuses to disrupt what it could not restore.
func TestVerifyHostUnreachable(t *testing.T) {
	applied(t)
	LinkDown(t, "t68")
	t.Cleanup(func() { LinkUp(t, "t68") })
	v := runVerify(t, "--connect-timeout", "3s")
	wantFailure(t, v, "t68", "ssh", "t68")
	for _, host := range []string{"proxy", "t58"} {
		if c := v.find(t, host, "hostname"); c.Status != "ok" {
			t.Errorf("%s not checked: %s %q", host, c.Status, c.Reason)
		}
	}
	if c := v.find(t, "t58", "memcached reachable from t68"); c.Status != "skipped" {
		t.Errorf("check from the unreachable host: %s %q", c.Status, c.Reason)
	}
	if c := v.find(t, "cluster", "1 new session"); c.Status != "skipped" || !strings.Contains(c.Reason, "t68") {
		t.Errorf("drill with a host unreachable: %s %q", c.Status, c.Reason)
	}
}

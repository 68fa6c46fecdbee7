//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/loadgen"
)

// shopWAR builds the test's shop app in version v: index.jsp keeps a
// shop.Cart in the session (one item more per request) and answers in the
// probe's JSON shape (session, counter = the cart's size, new, host), so
// the load generator counts lost sessions and stale answers on it;
// health.jsp answers "ok". cart is Cart.java's body. It returns the WAR's
// path and SHA-256.
func shopWAR(t testing.TB, v, cart string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "shop")
	classes := filepath.Join(dir, "war", "WEB-INF", "classes")
	for _, d := range []string{src, classes} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(src, "Cart.java"), "package shop;\n\npublic class Cart implements java.io.Serializable {\n"+cart+"\n}\n")
	write(filepath.Join(dir, "war", "index.jsp"), `<%@ page contentType="application/json" import="shop.Cart" %><%
Cart c = (Cart) session.getAttribute("cart");
boolean fresh = c == null;
if (fresh) { c = new Cart(); }
c.add("item");
session.setAttribute("cart", c);
String id = session.getId();
%>{"host":"<%= id.substring(id.lastIndexOf('.') + 1) %>","session":"<%= id %>","counter":<%= c.size() %>,"new":<%= fresh %>,"version":"`+v+`"}
`)
	write(filepath.Join(dir, "war", "health.jsp"), `<%@ page contentType="text/plain" session="false" %>ok `+v+"\n")
	for _, c := range [][]string{
		{"javac", "--release", "11", "-d", classes, filepath.Join(src, "Cart.java")},
		{"jar", "cf", filepath.Join(dir, "shop-"+v+".war"), "-C", filepath.Join(dir, "war"), "."},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	war := filepath.Join(dir, "shop-"+v+".war")
	b, err := os.ReadFile(war)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return war, hex.EncodeToString(sum[:])
}

const (
	// cartV1 is the session class as v1 has it.
	cartV1 = `  private static final long serialVersionUID = 1L;
  private final java.util.ArrayList<String> items = new java.util.ArrayList<>();
  public void add(String s) { items.add(s); }
  public int size() { return items.size(); }`
	// cartV2 is a compatible change: a new method, the explicit
	// serialVersionUID kept.
	cartV2 = cartV1 + `
  public boolean isEmpty() { return items.isEmpty(); }`
)

// appsInventory is the lab's inventory with the shop app at war.
func appsInventory(t testing.TB, name, war, sha string) string {
	t.Helper()
	inv := variantInventory(t, name)
	b, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, fmt.Sprintf("\napps:\n  - name: shop\n    war: %s\n    path: /shop\n    sha256: %s\n    health: /health.jsp\n", war, sha)...)
	if err := os.WriteFile(inv, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return inv
}

// shopApp builds the shop in version v and an inventory (name prefix-v)
// deploying it; it returns the inventory and the WAR's SHA-256.
func shopApp(t testing.TB, prefix, v, cart string) (string, string) {
	t.Helper()
	war, sha := shopWAR(t, v, cart)
	return appsInventory(t, prefix+"-"+v, war, sha), sha
}

// shopVersion asks host's Tomcat itself which shop version it serves.
func shopVersion(t *testing.T, host string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + hostAddr(t, host) + ":8080/shop/health.jsp")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// A new version of the operator's app rolls out like a restart: v1 by
// apply (a second apply changes nothing), then v1 -> v2 under 20 sessions
// of load on the app itself: 0 failed, 0 lost (every session keeps its
// cart), 0 stale, every Tomcat serves v2 at the end; `rollback shop` under
// new load (sessions v2 made) back to v1, the same. Teardown then takes
// the app out, and the hosts are pristine.
func TestAppRollsOutWithoutLosingACart(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	t.Cleanup(func() { ensureApplied(t) })
	inv1, sha1 := shopApp(t, "apps", "v1", cartV1)
	inv2, sha2 := shopApp(t, "apps", "v2", cartV2)

	res := runCmd(t, invCmd(t, inv1, "apply"))
	if res.ExitCode != 0 {
		t.Fatalf("apply with shop v1: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 15))
	}
	for _, h := range []string{"t58", "t68"} {
		if v := shopVersion(t, h); v != "200 ok v1" {
			t.Errorf("%s serves %q after the first apply, want v1", h, v)
		}
	}
	assertNoChanges(t, runCmd(t, invCmd(t, inv1, "apply")))

	dry := runCmd(t, invCmd(t, inv2, "apply", "--dry-run"))
	if plan := strings.Join(dry.Changed(), "\n"); !strings.Contains(plan, "t58 apps: want shop") || !strings.Contains(plan, "t68 apps: want shop") {
		t.Errorf("the dry run does not say which hosts get v2:\n%s", plan)
	}

	proxy := hostAddr(t, "proxy")
	l, err := loadgen.Start(context.Background(), loadgen.Config{
		URLs: []string{"http://" + proxy + ":80/shop/index.jsp"}, Sessions: 20, Duration: 3 * time.Minute, MaxRequests: 200_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	res = runCmd(t, invCmd(t, inv2, "apply"))
	time.Sleep(time.Second)
	rep := l.Stop()
	t.Logf("v1 -> v2 under load: %s", rep)
	if res.ExitCode != 0 {
		t.Fatalf("apply with shop v2: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 15))
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t68" {
		t.Errorf("v2 rolled onto %q, want t58,t68", got)
	}
	if rep.Requests < 200 || !rep.Clean() {
		t.Errorf("v1 -> v2 under load: %s; want 0 failed, 0 lost, 0 stale; samples %q", rep, rep.Samples)
	}
	for _, h := range []string{"t58", "t68"} {
		if v := shopVersion(t, h); v != "200 ok v2" {
			t.Errorf("%s serves %q after the rollout, want v2", h, v)
		}
		if out := RunOn(t, h, "cat /var/lib/clusterctl/apps/shop/previous; ls /var/lib/clusterctl/apps/shop/"); !strings.Contains(out, sha1+"\n") || !strings.Contains(out, sha2+".war") || !strings.Contains(out, sha1+".war") {
			t.Errorf("%s: v1 is not kept for a rollback:\n%s", h, out)
		}
	}
	v := runCmd(t, invCmd(t, inv2, "verify", "--no-drill"))
	var apps int
	for _, line := range strings.Split(v.Stdout, "\n") {
		var r struct{ Host, Check, Status string }
		if json.Unmarshal([]byte(line), &r) == nil && r.Check == "app shop" {
			apps++
			if r.Status != "ok" {
				t.Errorf("verify: %s", line)
			}
		}
	}
	if v.ExitCode != 0 || apps != 3 {
		t.Errorf("verify with the app: exit %d, %d app checks (want 3: each Tomcat and the proxy)", v.ExitCode, apps)
	}

	// Back to v1 under new load: the sessions v2 made must survive v1.
	l, err = loadgen.Start(context.Background(), loadgen.Config{
		URLs: []string{"http://" + proxy + ":80/shop/index.jsp"}, Sessions: 20, Duration: 3 * time.Minute, MaxRequests: 200_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	res = runCmd(t, invCmd(t, inv2, "rollback", "shop"))
	time.Sleep(time.Second)
	rep = l.Stop()
	t.Logf("rollback v2 -> v1 under load (sessions made by v2): %s", rep)
	if res.ExitCode != 0 || strings.Join(rolledHosts(res), ",") != "t58,t68" {
		t.Fatalf("rollback shop: exit %d, rolled %v:\n%s", res.ExitCode, rolledHosts(res), lastLines(res.Stdout+res.Stderr, 15))
	}
	if rep.Requests < 200 || !rep.Clean() {
		t.Errorf("rollback under load: %s; want 0 failed, 0 lost, 0 stale; samples %q", rep, rep.Samples)
	}
	for _, h := range []string{"t58", "t68"} {
		if v := shopVersion(t, h); v != "200 ok v1" {
			t.Errorf("%s serves %q after the rollback, want v1", h, v)
		}
	}

	td := runCmd(t, invCmd(t, inv2, "teardown"))
	if td.ExitCode != 0 {
		t.Fatalf("teardown: exit %d:\n%s", td.ExitCode, lastLines(td.Stdout+td.Stderr, 10))
	}
	for _, h := range []string{"t58", "t68"} {
		if out := RunOn(t, h, "ls -d /usr/local/tomcat/webapps/shop* /var/lib/clusterctl/apps 2>/dev/null; true"); strings.TrimSpace(out) != "" {
			t.Errorf("%s: teardown left %s", h, out)
		}
	}
	assertPristine(t, "after the apps teardown")
}

// cartV3 is incompatible: the field's type changed and no explicit
// serialVersionUID is left, so Java serialization computes another one.
const cartV3 = `  private final java.util.LinkedList<String> items = new java.util.LinkedList<>();
  public void add(String s) { items.add(s); }
  public int size() { return items.size(); }`

// memcachedBlobs reads every key and value of both lab memcacheds.
func memcachedBlobs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range []string{"t58", "t68"} {
		dump := RunOn(t, h, `exec 3<>/dev/tcp/127.0.0.1/11211; printf 'lru_crawler metadump all\r\n' >&3; timeout 3 cat <&3 | tr -d '\r' | sed -n 's/^key=\([^ ]*\) .*/\1/p' | head -500`)
		for _, k := range strings.Fields(dump) {
			v := RunOn(t, h, `exec 3<>/dev/tcp/127.0.0.1/11211; printf 'get %s\r\n' `+shellQuote(k)+` >&3; timeout 2 sed -n '/^END/q;p' <&3 | sha256sum`)
			out[h+" "+k] = v
		}
	}
	return out
}

// A new version whose session class cannot read the sessions the running
// one wrote is refused by the session check before any Tomcat serves it:
// exit 1 naming the class; every Tomcat still serves v2; no session blob
// in memcached changed (the check only reads), no Tomcat logged a
// deserialization error, no user session is lost, and the wanted version
// on the hosts is v2 again.
func TestAppGateRefusesAnIncompatibleVersion(t *testing.T) {
	g := v2WithCarts(t, "gate")
	inv3, _ := shopApp(t, "gate", "v3", cartV3)
	res := runCmd(t, invCmd(t, inv3, "apply"))
	out := res.Stdout + res.Stderr
	t.Logf("apply of v3: exit %d: %s", res.ExitCode, lastLines(res.Stderr, 3))
	if res.ExitCode != 1 || !strings.Contains(out, "shop.Cart") || !strings.Contains(out, "local class incompatible") {
		t.Errorf("apply of an incompatible v3: exit %d, want 1 naming shop.Cart:\n%s", res.ExitCode, lastLines(out, 10))
	}
	if strings.Contains(out, `"step":"drain `) || len(rolledHosts(res)) != 0 {
		t.Errorf("the refused rollout drained or restarted a Tomcat (restarted %v):\n%s", rolledHosts(res), lastLines(out, 10))
	}
	for _, h := range []string{"t58", "t68"} {
		if log := RunOn(t, h, "journalctl -u tomcat --since "+shellQuote(g.since)+" --no-pager -o cat | grep -ci deserializ || true"); strings.TrimSpace(log) != "0" {
			t.Errorf("%s: Tomcat logged %s deserialization errors", h, strings.TrimSpace(log))
		}
	}
	g.stillV2(t)
}

// With the offline check switched off (session_check: live), the live
// check on the canary refuses v3: t58 restarted onto v3 while drained, its
// session read by t68 (v2) fails, and t58 goes back to v2 before it is
// undrained. Under load through the proxy no user request is answered by
// v3, none fails, no session is lost or stale; t68 is never restarted; the
// idle carts are all kept, their blobs unchanged; t58's previous version is
// what it was before (a rollback never goes to v3).
func TestLiveCheckRefusesAnIncompatibleVersion(t *testing.T) {
	g := v2WithCarts(t, "live")
	inv3, _ := shopApp(t, "live", "v3", cartV3)
	appendToApp(t, inv3, "    session_check: live\n")
	prev := RunOn(t, "t58", "cat /var/lib/clusterctl/apps/shop/previous 2>/dev/null || true")

	l, err := loadgen.Start(context.Background(), loadgen.Config{
		URLs: []string{g.shop}, Sessions: 20, Duration: 3 * time.Minute, MaxRequests: 200_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	res := runCmd(t, invCmd(t, inv3, "apply"))
	time.Sleep(time.Second)
	rep := l.Stop()
	out := res.Stdout + res.Stderr
	t.Logf("apply of v3, live check only, under load: exit %d: %s; load: %s, versions %v", res.ExitCode, lastLines(res.Stderr, 3), rep, rep.Versions)
	if res.ExitCode != 1 || !strings.Contains(out, "live session check refused") || !strings.Contains(out, "shop.Cart") || !strings.Contains(out, "local class incompatible") {
		t.Errorf("apply of an incompatible v3 (live check only): exit %d, want 1 naming shop.Cart:\n%s", res.ExitCode, lastLines(out, 10))
	}
	if !strings.Contains(out, "session check shop") || !strings.Contains(out, "skipped: the app's session_check is live") {
		t.Errorf("the offline check did not say it was skipped:\n%s", lastLines(out, 30))
	}
	if got := strings.Join(rolledHosts(res), ","); got != "t58,t58" {
		t.Errorf("restarted %q, want t58 twice (onto v3, back to v2) and t68 never", got)
	}
	if rep.Requests < 200 || !rep.Clean() || rep.Versions["v3"] != 0 || rep.Versions["v2"] != rep.Requests {
		t.Errorf("under load: %s, versions %v; want 0 failed, 0 lost, 0 stale, every answer from v2; samples %q", rep, rep.Versions, rep.Samples)
	}
	if now := RunOn(t, "t58", "cat /var/lib/clusterctl/apps/shop/previous 2>/dev/null || true; ls /var/lib/clusterctl/apps/shop/"); !strings.HasPrefix(now, prev) || strings.Contains(now, "refused") {
		t.Errorf("t58 after the refusal: previous and staged files\n%s\nwant previous %q as before, no refused marker", now, prev)
	}
	g.stillV2(t)
}

// v2State is the shop at v2 with 20 idle carts, for a test that tries a
// version that must be refused.
type v2State struct {
	shop  string // the shop through the proxy
	sha2  string
	carts []idleSession
	blobs map[string]string // the carts' blobs in memcached
	since string            // t58's clock before the attempt
}

func v2WithCarts(t *testing.T, prefix string) *v2State {
	t.Helper()
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	t.Cleanup(func() { ensureApplied(t) })
	inv2, sha2 := shopApp(t, prefix, "v2", cartV2)
	if res := runCmd(t, invCmd(t, inv2, "apply")); res.ExitCode != 0 {
		t.Fatalf("apply with shop v2: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 15))
	}
	g := &v2State{shop: "http://" + hostAddr(t, "proxy") + ":80/shop/index.jsp", sha2: sha2, carts: make([]idleSession, 20)}
	for i := range g.carts {
		jar, _ := cookiejar.New(nil)
		g.carts[i].c = &http.Client{Jar: jar, Timeout: 10 * time.Second}
		if id, n, err := getProbe(g.carts[i].c, g.shop); err != nil || n != 1 {
			t.Fatalf("cart %d: %v (%d items)", i, err, n)
		} else {
			g.carts[i].id = id
		}
	}
	time.Sleep(time.Second) // MSM's backups are asynchronous
	g.since = strings.TrimSpace(RunOn(t, "t58", "date '+%Y-%m-%d %H:%M:%S'"))
	g.blobs = map[string]string{}
	for k, v := range memcachedBlobs(t) {
		for _, c := range g.carts {
			if strings.HasSuffix(k, c.id) {
				g.blobs[k] = v
			}
		}
	}
	if len(g.blobs) != len(g.carts) {
		t.Fatalf("%d of %d carts' blobs found in memcached", len(g.blobs), len(g.carts))
	}
	return g
}

// stillV2 holds after a refused version: every Tomcat serves and wants v2,
// every cart's blob is byte for byte what it was, and every cart is kept.
func (g *v2State) stillV2(t *testing.T) {
	t.Helper()
	for _, h := range []string{"t58", "t68"} {
		if v := shopVersion(t, h); v != "200 ok v2" {
			t.Errorf("%s serves %q after the refusal, want v2", h, v)
		}
		if w := strings.TrimSpace(RunOn(t, h, "cat /var/lib/clusterctl/apps/shop/want")); w != g.sha2 {
			t.Errorf("%s still wants %s after the refusal, want v2 (%s)", h, w, g.sha2)
		}
	}
	after := memcachedBlobs(t)
	changed := 0
	for k, v := range g.blobs {
		if after[k] != v {
			changed++
		}
	}
	if changed != 0 {
		t.Errorf("%d of %d carts' blobs in memcached changed during the refused apply", changed, len(g.blobs))
	}
	lost := 0
	for i, c := range g.carts {
		if _, n, err := getProbe(c.c, g.shop); err != nil || n != 2 {
			lost++
			t.Logf("cart %d (%s): %v, %d items", i, c.id, err, n)
		}
	}
	if lost != 0 {
		t.Errorf("%d of %d carts lost after the refused apply", lost, len(g.carts))
	}
}

// appendToApp adds lines to the shop's entry, the last in inv.
func appendToApp(t *testing.T, inv, lines string) {
	t.Helper()
	f, err := os.OpenFile(inv, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
}

// A WAR an operator deployed by hand before the app was in the inventory
// is replaced by the first deploy and kept for a rollback: `rollback shop`
// puts the hand-deployed version back on every Tomcat.
func TestAHandDeployedWARIsKeptForRollback(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	t.Cleanup(func() { ensureApplied(t) })
	hand, _ := shopWAR(t, "v0", cartV1)
	for _, h := range []string{"t58", "t68"} {
		UploadFile(t, h, hand, "/usr/local/tomcat/webapps/shop.war", 0o644)
		RunOn(t, h, "chown tomcat:tomcat /usr/local/tomcat/webapps/shop.war")
	}
	inv1, _ := shopApp(t, "hand", "v1", cartV1)
	if res := runCmd(t, invCmd(t, inv1, "apply")); res.ExitCode != 0 {
		t.Fatalf("apply with shop v1 over the hand-deployed v0: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 15))
	}
	for _, h := range []string{"t58", "t68"} {
		if v := shopVersion(t, h); v != "200 ok v1" {
			t.Errorf("%s serves %q after the deploy, want v1", h, v)
		}
	}
	if res := runCmd(t, invCmd(t, inv1, "rollback", "shop")); res.ExitCode != 0 {
		t.Fatalf("rollback to the hand-deployed WAR: exit %d:\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 15))
	}
	for _, h := range []string{"t58", "t68"} {
		if v := shopVersion(t, h); v != "200 ok v0" {
			t.Errorf("%s serves %q after the rollback, want the hand-deployed v0", h, v)
		}
	}
}

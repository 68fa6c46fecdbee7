package playbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// appsTree is the shipped inventory with Tomcat and the apps' staging
// directory in a temp tree, owned by whoever runs the test.
func appsTree(t *testing.T) *inventory.Inventory {
	t.Helper()
	root := t.TempDir()
	old := AppsDir
	AppsDir = filepath.Join(root, "apps")
	t.Cleanup(func() { AppsDir = old })
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	inv := loadInventory(t)
	inv.Tomcat.Prefix, inv.Tomcat.User = root, me.Username
	return inv
}

// The script that puts apps live, run for real in a temp tree: a new
// version replaces the live WAR and its unpacked tree, the replaced one is
// kept for rollback (and only it: older staged versions go), and an app
// already live in its version is left alone, its unpacked tree included.
func TestAppsLiveScript(t *testing.T) {
	inv := appsTree(t)
	webapps := filepath.Join(inv.CatalinaHome(), "webapps")
	if err := os.MkdirAll(webapps, 0o755); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	deploy := func(content string) (sha string, place AppPlace) {
		sum := sha256.Sum256([]byte(content))
		sha = hex.EncodeToString(sum[:])
		inv.Apps = []inventory.App{{Name: "shop", WAR: "shop.war", Path: "/shop", Health: "/", SHA256: sha}}
		c := &Cluster{Inv: inv, Topo: &topology.Topology{}}
		place = c.Apps()[0]
		if err := os.MkdirAll(place.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(place.Staged, []byte(content), 0o644)
		os.WriteFile(place.Want, []byte(sha+"\n"), 0o644)
		if out, err := exec.Command("bash", "-c", c.appsLiveScript()).CombinedOutput(); err != nil {
			t.Fatalf("script: %v\n%s", err, out)
		}
		if out, err := exec.Command("bash", "-c", c.appsLiveCond()).CombinedOutput(); err != nil {
			t.Errorf("after the script the live condition fails: %v %s", err, out)
		}
		return sha, place
	}
	sha1, p := deploy("v1")
	if read(p.Live) != "v1" || exists(p.Previous) {
		t.Fatalf("first deploy: live %q, previous exists %v", read(p.Live), exists(p.Previous))
	}
	os.MkdirAll(filepath.Join(p.Unpacked, "WEB-INF"), 0o755)          // Tomcat unpacks it
	os.MkdirAll(filepath.Join(p.Work, "org", "apache", "jsp"), 0o755) // and compiles its JSPs
	sha2, p := deploy("v2")
	if exists(p.Work) {
		t.Error("v1 -> v2: the compiled JSPs of v1 stayed: Jasper would serve them for v2's older sources")
	}
	if read(p.Live) != "v2" || exists(p.Unpacked) || strings.TrimSpace(read(p.Previous)) != sha1 || !exists(filepath.Join(p.Dir, sha1+".war")) {
		t.Fatalf("v1 -> v2: live %q, unpacked left %v, previous %q, v1 staged %v", read(p.Live), exists(p.Unpacked), read(p.Previous), exists(filepath.Join(p.Dir, sha1+".war")))
	}
	_, p = deploy("v3")
	if read(p.Live) != "v3" || strings.TrimSpace(read(p.Previous)) != sha2 || exists(filepath.Join(p.Dir, sha1+".war")) || !exists(filepath.Join(p.Dir, sha2+".war")) {
		t.Fatalf("v2 -> v3: live %q, previous %q, v1 staged %v, v2 staged %v", read(p.Live), read(p.Previous), exists(filepath.Join(p.Dir, sha1+".war")), exists(filepath.Join(p.Dir, sha2+".war")))
	}
	os.MkdirAll(filepath.Join(p.Unpacked, "WEB-INF"), 0o755)
	os.MkdirAll(p.Work, 0o755)
	_, p = deploy("v3")
	if !exists(p.Unpacked) || !exists(p.Work) || strings.TrimSpace(read(p.Previous)) != sha2 {
		t.Errorf("v3 again: unpacked tree kept %v, compiled JSPs kept %v, previous %q", exists(p.Unpacked), exists(p.Work), read(p.Previous))
	}
	if entries, _ := os.ReadDir(webapps); len(entries) != 2 {
		t.Errorf("webapps holds %d entries, want the WAR and its tree: %v", len(entries), entries)
	}

	// v4 goes live on the canary, the live check refuses it (Refused),
	// and v3 comes back: previous is v2 again, as if v4 never ran, and
	// v4's staged WAR is gone.
	sha3 := strings.TrimSpace(read(p.Want))
	sha4, p := deploy("v4")
	if strings.TrimSpace(read(p.Previous)) != sha3 {
		t.Fatalf("v3 -> v4: previous %q", read(p.Previous))
	}
	os.WriteFile(p.Refused, []byte(sha4+"\n"), 0o644)
	os.WriteFile(p.Want, []byte(sha3+"\n"), 0o644)
	c := &Cluster{Inv: inv, Topo: &topology.Topology{}}
	if out, err := exec.Command("bash", "-c", c.appsLiveScript()).CombinedOutput(); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	if read(p.Live) != "v3" || strings.TrimSpace(read(p.Previous)) != sha2 || exists(p.Refused) || exists(filepath.Join(p.Dir, sha4+".war")) {
		t.Errorf("v4 refused, v3 back: live %q, previous %q (want v2's), refused marker left %v, v4 staged %v",
			read(p.Live), read(p.Previous), exists(p.Refused), exists(filepath.Join(p.Dir, sha4+".war")))
	}
}

// SessionRequest, run for real against a local server: it sends the
// session cookie when given one and prints the status line and the
// JSESSIONID the answer sets, nothing of the body.
func TestSessionRequest(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+" "+r.Header.Get("Cookie"))
		http.SetCookie(w, &http.Cookie{Name: "other", Value: "x"})
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "ABC-n2.t58", Path: "/shop", HttpOnly: true})
		w.Write([]byte("JSESSIONID=body\n"))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	for _, session := range []string{"", "OLD-n1.t68"} {
		out, err := exec.Command("bash", "-c", SessionRequest(u.Hostname(), port, "/shop/", session)).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(out), "\r", "")), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "HTTP/1.") || !strings.Contains(lines[0], " 200") || !strings.HasPrefix(lines[1], "Set-Cookie: JSESSIONID=ABC-n2.t58;") {
			t.Errorf("session %q: printed %q, want the status line and the JSESSIONID cookie only", session, lines)
		}
	}
	if want := []string{"/shop/ ", "/shop/ JSESSIONID=OLD-n1.t68"}; !reflect.DeepEqual(got, want) {
		t.Errorf("the server got %q, want %q", got, want)
	}
}

// A WAR deployed by hand before clusterctl is staged when the first
// deploy replaces it, so a rollback can go back to it.
func TestAppsLiveScriptKeepsAHandDeployedWAR(t *testing.T) {
	inv := appsTree(t)
	sum := sha256.Sum256([]byte("v1"))
	sha1 := hex.EncodeToString(sum[:])
	inv.Apps = []inventory.App{{Name: "shop", WAR: "shop.war", Path: "/shop", Health: "/", SHA256: sha1}}
	c := &Cluster{Inv: inv, Topo: &topology.Topology{}}
	p := c.Apps()[0]
	os.MkdirAll(filepath.Dir(p.Live), 0o755)
	os.MkdirAll(p.Dir, 0o755)
	os.WriteFile(p.Live, []byte("by hand"), 0o644)
	os.WriteFile(p.Staged, []byte("v1"), 0o644)
	os.WriteFile(p.Want, []byte(sha1+"\n"), 0o644)
	if out, err := exec.Command("bash", "-c", c.appsLiveScript()).CombinedOutput(); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	hs := sha256.Sum256([]byte("by hand"))
	hand := hex.EncodeToString(hs[:])
	prev, _ := os.ReadFile(p.Previous)
	staged, err := os.ReadFile(filepath.Join(p.Dir, hand+".war"))
	if live, _ := os.ReadFile(p.Live); string(live) != "v1" || strings.TrimSpace(string(prev)) != hand || err != nil || string(staged) != "by hand" {
		t.Errorf("live %q, previous %q (want the hand WAR's %s), hand WAR staged %q (%v)", live, prev, hand, staged, err)
	}
}

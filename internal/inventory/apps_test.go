package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const appsBase = `apps:
  - name: shop
    war: shop-1.war
    path: /shop
  - name: home
    war: home.war
    path: /
    health: /ping
`

// Each bad app field is an error at the value that is wrong.
func TestAppErrorsPointAtTheField(t *testing.T) {
	for _, c := range []struct{ old, new, field, msg string }{
		{"name: shop", "name: ⇒Shop", "apps[0].name", "must match"},
		{"name: home", "name: ⇒shop", "apps[1].name", "already the name of apps[0]"},
		{"path: /shop", "path: ⇒/shop/", "apps[0].path", "not a context path"},
		{"path: /shop", "path: ⇒/probe", "apps[0].path", "probe app"},
		{"path: /\n", "path: ⇒/shop\n", "apps[1].path", "already the path of apps[0]"},
		{"war: shop-1.war", "war: ⇒shop-1.jar", "apps[0].war", "not a .war file"},
		{"health: /ping", "health: ⇒ping", "apps[1].health", "not a path under the app"},
		{"path: /shop\n", "path: /shop\n    sha256: ⇒abc\n", "apps[0].sha256", "64 lowercase hex"},
		{"health: /ping", "session_path: ⇒cart", "apps[1].session_path", "not a path under the app"},
		{"health: /ping", "session_check: ⇒offline-only", "apps[1].session_check", "want both, offline, live or none"},
	} {
		e, _, line, col := singleErrorAtMarker(t, base+editText(t, appsBase, c.old, c.new))
		if e.Field != c.field || e.Line != line || e.Column != col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s -> %s: got %s at %d:%d %q, want %s at %d:%d containing %q", c.old, c.new, e.Field, e.Line, e.Column, e.Msg, c.field, line, col, c.msg)
		}
	}
	inv := mustParse(t, base+appsBase)
	if a := inv.Apps[0]; a.Health != "/" || a.ContextName() != "shop" || a.HealthPath() != "/shop/" || a.SessionURLPath() != "/shop/" || !a.Offline() || !a.Live() {
		t.Errorf("shop: health %q, context %q, health path %q, session path %q, checks %q", a.Health, a.ContextName(), a.HealthPath(), a.SessionURLPath(), a.SessionCheck)
	}
	for check, want := range map[string][2]bool{"both": {true, true}, "offline": {true, false}, "live": {false, true}, "none": {false, false}} {
		if a := (App{SessionCheck: check}); a.Offline() != want[0] || a.Live() != want[1] {
			t.Errorf("session_check %s: offline %v live %v, want %v", check, a.Offline(), a.Live(), want)
		}
	}
	if a := inv.Apps[1]; a.ContextName() != "ROOT" || a.HealthPath() != "/ping" {
		t.Errorf("home: context %q, health path %q", a.ContextName(), a.HealthPath())
	}
	if got := (App{Path: "/a/b"}).ContextName(); got != "a#b" {
		t.Errorf("nested context name %q", got)
	}
}

// A missing WAR, a missing checksum file and a WAR that is not the one
// named are found before any host is contacted, at the line naming it.
func TestAppWARIsCheckedLocally(t *testing.T) {
	dir := t.TempDir()
	war := []byte("PK fake war")
	sum := sha256.Sum256(war)
	hexsum := hex.EncodeToString(sum[:])
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("jdk.tar.gz", tarGz(t))
	write("apache-tomcat-9.0.70.tar.gz", tarGz(t))
	write("apache-tomcat-9.0.70.tar.gz.sha512", []byte("x"))
	text := strings.Replace(base, "java:\n", "artifacts:\n  dir: "+dir+"\njava:\n", 1) +
		"apps:\n  - name: shop\n    war: shop-1.war\n    path: /shop\n"
	load := func() error {
		p := filepath.Join(dir, "inventory.yaml")
		write("inventory.yaml", []byte(text))
		inv, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return inv.CheckLocal(true)
	}
	if err := load(); err == nil || !strings.Contains(err.Error(), "inventory.yaml:") || !strings.Contains(err.Error(), "apps[0].war") || !strings.Contains(err.Error(), "the app's WAR") {
		t.Errorf("missing WAR: %v", err)
	}
	write("shop-1.war", war)
	if err := load(); err == nil || !strings.Contains(err.Error(), "shop-1.war.sha256: its checksum file") {
		t.Errorf("missing checksum file: %v", err)
	}
	write("shop-1.war.sha256", []byte(strings.Repeat("0", 64)+"  shop-1.war\n"))
	if err := load(); err == nil || !strings.Contains(err.Error(), "has SHA-256 "+hexsum+", not 0000") {
		t.Errorf("wrong WAR: %v", err)
	}
	write("shop-1.war.sha256", []byte(hexsum+"  shop-1.war\n"))
	if err := load(); err != nil {
		t.Errorf("the right WAR: %v", err)
	}
	text = strings.Replace(text, "path: /shop\n", "path: /shop\n    sha256: "+strings.Repeat("1", 64)+"\n", 1)
	if err := load(); err == nil || !strings.Contains(err.Error(), "apps[0].sha256") || !strings.Contains(err.Error(), "not 1111") {
		t.Errorf("sha256 in the inventory that does not match: %v", err)
	}
}

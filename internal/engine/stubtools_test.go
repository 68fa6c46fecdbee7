package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rhelFacts = Facts{ID: "rocky", IDLike: []string{"rhel", "centos", "fedora"}, VersionID: "9.3", Major: 9, Family: FamilyRHEL, PackageManager: PkgDnf}
var centos7Facts = Facts{ID: "centos", VersionID: "7", Major: 7, Family: FamilyRHEL, PackageManager: PkgYum}

// stubTools puts fake dpkg-query/apt-get/systemctl/getent/useradd on the
// PATH of c's commands, backed by files in state, so whole Check -> Apply ->
// Check cycles run for real through the shell without root or a package
// manager. Every state-changing call is logged to state/log.
func stubTools(t *testing.T, c *localConn) (state string) {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	tools := map[string]string{
		// installed packages are files state/pkg/<name>
		"dpkg-query": `p="$3"; [ -e "$STATE/pkg/$p" ] && printf 'install ok installed' && exit 0; echo "dpkg-query: no packages found matching $p" >&2; exit 1`,
		"apt-get": `echo "apt-get $*" >> "$STATE/log"; [ "$3" = update ] && exit 0
for a in "$@"; do case "$a" in -*|install|remove|DPkg*) ;; *) if [ "$3" = install ]; then touch "$STATE/pkg/$a"; else rm -f "$STATE/pkg/$a"; fi;; esac; done`,
		"find": `exit 0`, // no fresh package lists: apt-get update must run
		// units: state/active/<unit>, state/enabled/<unit>
		"systemctl": `echo "systemctl $*" >> "$STATE/log"
case "$1" in
is-active) [ -e "$STATE/active/$2" ] && { echo active; exit 0; }; echo inactive; exit 3;;
is-enabled) [ -e "$STATE/enabled/$2" ] && { echo enabled; exit 0; }; echo disabled; exit 1;;
enable) if [ "$2" = --now ]; then touch "$STATE/enabled/$3" "$STATE/active/$3"; else touch "$STATE/enabled/$2"; fi;;
start|restart) touch "$STATE/active/$2";;
stop) rm -f "$STATE/active/$2";;
esac`,
		"getent":  `[ -e "$STATE/users/$2" ] && { cat "$STATE/users/$2"; exit 0; }; exit 2`,
		"useradd": `echo "useradd $*" >> "$STATE/log"; for a; do n="$a"; done; echo "$n:x:999:999::/home/$n:/bin/sh" > "$STATE/users/$n"`,
	}
	for name, body := range tools {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"pkg", "active", "enabled", "users"} {
		if err := os.Mkdir(filepath.Join(state, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "STATE=" + state}
	return state
}

// overrideStub replaces one stub tool set up by stubTools.
func overrideStub(t *testing.T, c *localConn, name, body string) {
	t.Helper()
	bin, _, _ := strings.Cut(strings.TrimPrefix(c.Env[0], "PATH="), ":")
	if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func stubLog(t *testing.T, state string) []string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(state, "log"))
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

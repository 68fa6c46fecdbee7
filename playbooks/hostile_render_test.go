package playbooks

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// hostile is what a value that slipped past validation might hold: every
// character a shell, systemd or XML treats specially.
const hostile = `/opt/a b'c"d$(touch PWNED)` + "`touch PWNED`" + `;touch PWNED&%n\x<y>&amp;`

// The second wall: with hostile values in the string fields that reach a
// shell script, a unit file or an XML file (past the validator, which
// refuses them today), every rendered file is inert. Sourcing the profile
// scripts runs nothing and sets exactly the value; the unit's words parse
// back (with systemd's quoting) to exactly the value; context.xml and
// server.xml are well-formed with the attributes intact.
func TestRenderedFilesAreInertWithHostileValues(t *testing.T) {
	inv := loadInventory(t)
	inv.Java.Home = hostile + "/jdk"
	inv.Tomcat.Prefix = hostile
	inv.MSM.RequestURIIgnorePattern = `.*\.(png|"x'|<y>&z)$` + "\t"
	tg := target(t, inv, "t58", engine.FamilyDebian)

	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		render func() ([]byte, error)
		env    string // the variable the script must set
		want   string
	}{
		{"jdk.sh", tg.JDKProfile, "JAVA_HOME", hostile + "/jdk"},
		{"tomcat.sh", tg.TomcatProfile, "PATH", hostile + "/tomcat/bin:/usr/bin:/bin"},
	} {
		out, err := tc.render()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, tc.name)
		os.WriteFile(f, out, 0o644)
		if b, err := exec.Command("sh", "-n", f).CombinedOutput(); err != nil {
			t.Fatalf("%s: sh -n: %v %s\n%s", tc.name, err, b, out)
		}
		cmd := exec.Command("sh", "-c", `. "$0"; printf '%s' "$`+tc.env+`"`, f)
		cmd.Dir, cmd.Env = dir, []string{"PATH=/usr/bin:/bin"}
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: source: %v\n%s", tc.name, err, out)
		}
		if string(got) != tc.want {
			t.Errorf("%s sets %s=%q, want %q", tc.name, tc.env, got, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
			t.Fatalf("%s: sourcing it ran a command", tc.name)
		}
	}

	unit, err := tg.TomcatService()
	if err != nil {
		t.Fatal(err)
	}
	words := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && (k == "Environment" || k == "ExecStart") {
			words[k] = append(words[k], systemdWords(t, v)...)
		}
	}
	home := hostile + "/tomcat"
	wantEnv := []string{"JAVA_HOME=" + hostile + "/jdk", "CATALINA_HOME=" + home, "CATALINA_BASE=" + home}
	if strings.Join(words["Environment"], "\x00") != strings.Join(wantEnv, "\x00") {
		t.Errorf("unit Environment words %q, want %q\n%s", words["Environment"], wantEnv, unit)
	}
	if w := words["ExecStart"]; len(w) != 2 || w[0] != home+"/bin/catalina.sh" || w[1] != "run" {
		t.Errorf("unit ExecStart words %q\n%s", w, unit)
	}

	for _, r := range []func() ([]byte, error){tg.ContextXML, tg.ServerXML} {
		out, err := r()
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(out))
		found := false
		for {
			tok, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("not well-formed XML: %v\n%s", err, out)
				}
				break
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "requestUriIgnorePattern" {
						found = a.Value == inv.MSM.RequestURIIgnorePattern
					}
				}
			}
		}
		if bytes.Contains(out, []byte("requestUriIgnorePattern")) && !found {
			t.Errorf("requestUriIgnorePattern did not survive XML quoting:\n%s", out)
		}
	}
}

// systemdWords splits a unit file value the way systemd does for
// Environment= and ExecStart=: double-quoted words with \ escapes,
// %% for %, $$ for $.
func systemdWords(t *testing.T, v string) []string {
	var words []string
	var cur strings.Builder
	in, started := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && in && i+1 < len(v):
			i++
			if v[i] == 'n' {
				cur.WriteByte('\n')
			} else {
				cur.WriteByte(v[i])
			}
		case c == '"':
			in, started = !in, true
		case (c == '%' || c == '$') && i+1 < len(v) && v[i+1] == c:
			cur.WriteByte(c)
			i++
			started = true
		case c == '%' || c == '$':
			t.Fatalf("an unescaped %c (systemd would expand it) in %q", c, v)
		case c == ' ' && !in:
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if started {
		words = append(words, cur.String())
	}
	return words
}

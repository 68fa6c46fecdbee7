// Package templates holds every configuration file clusterctl renders, as
// text/template sources embedded in the binary, so that a reviewer can read
// the exact files a host will get next to the seed's hand-written ones.
//
// One file per template; each starts with a {{/* */}} comment naming its
// destination and its data type (built next to its play, playbooks/<step>.go), and each
// renders a "managed by clusterctl — changes will be overwritten" header in
// the destination's own comment syntax.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/clusterctl/clusterctl/internal/remote"
)

//go:embed *.tmpl
var files embed.FS

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	"xmlattr":    XMLAttr,
	"sh":         ShellWord,
	"systemdarg": SystemdArg,
}

// Render executes the named template (e.g. "hosts.tmpl") with data.
// missingkey=error makes a typo in a template fail loudly instead of
// rendering "<no value>" into a live config file.
func Render(name string, data any) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).ParseFS(files, name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// xmlAttrEscaper escapes what may not appear literally in a double-quoted
// XML attribute value, and the whitespace an XML parser would otherwise
// normalise to spaces (a regex with a tab must keep its tab).
var xmlAttrEscaper = strings.NewReplacer(
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	`"`, "&quot;",
	"\t", "&#9;",
	"\n", "&#10;",
	"\r", "&#13;",
)

// XMLAttr returns s escaped for use inside a double-quoted XML attribute.
func XMLAttr(s string) string { return xmlAttrEscaper.Replace(s) }

// safeWord is what needs no quoting in a systemd unit (no %, $, quote or
// space): inventory validation only lets such paths through; the quoting
// is the second wall, for a value that got past it.
var safeWord = regexp.MustCompile(`^[A-Za-z0-9/._+@=:,-]+$`)

// ShellWord returns s as one POSIX shell word that expands to nothing but
// s: unchanged when plain, else single-quoted (remote.ShellWord).
func ShellWord(s string) string { return remote.ShellWord(s) }

// SystemdArg returns s as one word of a unit file's Environment= or
// ExecStart= line, taken literally: unchanged when safe, else in double
// quotes with \ and " escaped, and % and $ doubled so systemd expands
// neither a specifier nor a variable.
func SystemdArg(s string) string {
	if safeWord.MatchString(s) {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$", "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

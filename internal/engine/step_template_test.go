package engine

import (
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

func TestTemplateRendersHostDataAndIsIdempotent(t *testing.T) {
	h, _ := newTestHost("t58")
	h.Vars["port"] = 8080
	p := filepath.Join(t.TempDir(), "server.xml")
	step := Template{Path: p, Text: "host={{.Host}} family={{.Facts.Family}} port={{.Vars.port}}\n"}

	rc, _ := converge(t, h, Options{}, step)
	if rc.Failed() || readFile(t, p) != "host=t58 family=debian port=8080\n" {
		t.Fatalf("%+v %q", rc.Hosts[0], readFile(t, p))
	}
	rc, _ = converge(t, h, Options{}, step)
	if rc.Hosts[0].Changed != 0 {
		t.Fatalf("second run changed: %+v", rc.Hosts[0])
	}
}

func TestTemplateParsedAndExplicitData(t *testing.T) {
	h, _ := newTestHost("h1")
	p := filepath.Join(t.TempDir(), "out")
	tmpl := template.Must(template.New("x").Parse("nodes={{.}}\n"))
	rc, _ := converge(t, h, Options{}, Template{Path: p, Parsed: tmpl, Data: "n1:t58:11211"})
	if rc.Failed() || readFile(t, p) != "nodes=n1:t58:11211\n" {
		t.Fatalf("%+v", rc.Hosts[0])
	}
}

func TestTemplateMissingKeyFails(t *testing.T) {
	h, _ := newTestHost("h1")
	rc, _ := converge(t, h, Options{}, Template{Path: filepath.Join(t.TempDir(), "x"), Text: "{{.Vars.typo}}"})
	if !rc.Failed() || !strings.Contains(rc.Hosts[0].Err.Error(), "typo") {
		t.Fatalf("a missing variable must fail, not render <no value>: %+v", rc.Hosts[0])
	}
}

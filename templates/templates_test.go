package templates

import (
	"io/fs"
	"strings"
	"testing"
)

// Every template writes the managed-file header (in its file's own comment
// syntax), so whoever opens a rendered file on a host knows not to edit it.
func TestEveryTemplateHasHeader(t *testing.T) {
	names, err := fs.Glob(files, "*.tmpl")
	if err != nil || len(names) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		if !strings.Contains(string(b), "managed by clusterctl — changes will be overwritten") {
			t.Errorf("%s has no managed-by header", n)
		}
	}
}

func TestXMLAttr(t *testing.T) {
	got := XMLAttr(".*\\.(css|js)$|a&b<c>\"d'\te\n")
	want := ".*\\.(css|js)$|a&amp;b&lt;c&gt;&quot;d'&#9;e&#10;"
	if got != want {
		t.Errorf("XMLAttr = %q, want %q", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render("missing.tmpl", nil); err == nil {
		t.Error("unknown template: no error")
	}
	if _, err := Render("tomcat.sh.tmpl", map[string]string{}); err == nil {
		t.Error("missing key: no error")
	}
}

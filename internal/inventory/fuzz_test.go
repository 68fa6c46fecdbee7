package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: no input makes the loader panic, every problem is an *Error
// placed in the file (line within it) and one line of text (plus its
// excerpt), and what loads can be written out as effective YAML that
// loads again. The seed corpus (testdata, the base inventory, hostile
// edits) runs with go test; `go test -fuzz FuzzParse ./internal/inventory`
// searches further.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	if b, err := os.ReadFile("../../inventory.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		base,
		strings.Replace(base, "port: 22", "port: *x", 1),
		strings.Replace(base, "cluster:\n", "cluster: &a\n  <<: *a\n", 1),
		"a: &a [*a, *a]\n",
		"\x00\xff",
		"hosts: [{name: t58, address: \"::ffff:1.2.3.4\", roles: [memcached]}]\n",
		strings.Repeat("- ", 1000) + "x\n",
		"cluster: {name: \"lo\\u0000\"}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := parse("fuzz.yaml", data, "/inv", "/home/u")
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("not an ErrorList: %T %v", err, err)
			}
			lines := strings.Count(string(data), "\n") + 1
			for _, e := range list {
				if e.File != "fuzz.yaml" || e.Line < 0 || e.Line > lines || e.Column < 0 {
					t.Fatalf("misplaced: %#v (the file has %d lines)", e, lines)
				}
				if strings.Contains(e.Msg, "\n") {
					t.Fatalf("message of more than one line: %q", e.Msg)
				}
			}
			return
		}
		out, err := inv.EffectiveYAML()
		if err != nil {
			t.Fatalf("effective YAML: %v", err)
		}
		if _, err := parse("effective.yaml", out, "/inv", "/home/u"); err != nil {
			t.Fatalf("effective YAML does not load: %v\n%s", err, out)
		}
	})
}

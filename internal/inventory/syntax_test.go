package inventory

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// The YAML syntax errors that used to get a wrong line or none, and never
// a column: each now names the real line and column, and shows the line
// with a caret under the column. (Measured: go.yaml.in/yaml/v3, the
// maintained fork the decoder uses, gives the same line-only messages as
// gopkg.in/yaml.v3; goccy/go-yaml's parser places 8 of these 11 by itself.)
func TestSyntaxErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		name, doc    string
		line, column int
		msg          string
	}{
		{"tab in indentation", "cluster:\n  name: x\nhosts:\n\t- name: a\n", 4, 1, "cannot start any token"},
		{"bad indentation", "cluster:\n  name: x\n   domain: y\nhosts: []\n", 3, 4, "mapping value is not allowed"},
		{"unclosed double quote", "cluster:\n  name: \"x\nhosts: []\n", 2, 9, "double-quoted"},
		{"unclosed single quote", "cluster:\n  name: 'x\nhosts: []\n", 2, 9, "single-quoted"},
		{"unclosed bracket", "cluster:\n  name: x\nhosts: [a, b\nssh:\n  user: root\n", 4, 1, "']' must be specified"},
		{"unclosed brace", "cluster: {name: x\nhosts: []\n", 2, 1, "'}' must be specified"},
		{"undefined alias", "cluster:\n  name: *nope\nhosts: []\n", 2, 9, "alias *nope names no anchor"},
		{"NUL byte", "cluster:\n  name: x\x00y\nhosts: []\n", 2, 10, "control character U+0000"},
		{"invalid UTF-8", "cluster:\n  name: x\xff\xfey\nhosts: []\n", 2, 10, "byte 0xff is not UTF-8"},
		{"mapping inside a list item", "hosts:\n  - name: a\n    roles: [proxy]\n  name: b\n", 4, 3, "not allowed in this context"},
		{"key without a colon", "cluster:\n  name x\n  domain: y\n", 2, 3, "unexpected key name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("inventory.yaml", []byte(tc.doc), "/inv", "/home/u")
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("want one error, got %v", err)
			}
			e := list[0]
			if e.Line != tc.line || e.Column != tc.column || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("got %d:%d %q, want %d:%d ~%q", e.Line, e.Column, e.Msg, tc.line, tc.column, tc.msg)
			}
			lines := strings.Split(e.Error(), "\n")
			if len(lines) != 3 || !strings.HasSuffix(lines[2], "^") {
				t.Fatalf("no excerpt with a caret:\n%s", e.Error())
			}
			// The caret sits under the column of the excerpt's line.
			caret := strings.Index(lines[2], "^") - len("    ")
			if caret != tc.column-1 {
				t.Errorf("caret at %d, want %d:\n%s", caret+1, tc.column, e.Error())
			}
		})
	}
}

// A wrong value reached through an alias is reported where the alias is
// used, not where its anchor is.
func TestAliasErrorsPointAtTheAlias(t *testing.T) {
	doc := base + "x-ports: &p eighty\n"
	doc = strings.Replace(doc, "  listen: 80\n", "  listen: *p\n", 1)
	doc = strings.Replace(doc, "x-ports: &p eighty\n", "", 1)
	doc = strings.Replace(doc, "cluster:\n  name: lab\n", "cluster:\n  name: &p lab\n", 1)
	_, err := parse("inventory.yaml", []byte(doc), "/inv", "/home/u")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	want := strings.Count(doc[:strings.Index(doc, "*p")], "\n") + 1
	if e := list[0]; e.Field != "nginx.listen" || e.Line != want || e.Column != 11 {
		t.Fatalf("got %s, want nginx.listen at %d:11", e, want)
	}
}

// A file of a million wrong keys gets MaxErrors problems and a count of the
// rest, not megabytes of output.
func TestErrorsAreBounded(t *testing.T) {
	_, err := parse("huge.yaml", hugeUnknown(), "/inv", "/home/u")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != MaxErrors+1 {
		t.Fatalf("want %d problems and a count, got %d", MaxErrors, len(list))
	}
	last := list[len(list)-1].Msg
	if !strings.HasPrefix(last, "... and ") || !strings.HasSuffix(last, "more problems (only the first 50 are shown)") {
		t.Errorf("last line: %q", last)
	}
	if n := len(err.Error()); n > 20_000 {
		t.Errorf("%d bytes of errors", n)
	}
}

// A file without apiVersion (written before there was one) is read as the
// current version, with a notice that says how to mark it; one with it has
// no notice.
func TestMissingAPIVersionIsReadAsCurrentWithANotice(t *testing.T) {
	inv, err := parse("inventory.yaml", []byte(base), "/inv", "/home/u")
	if err != nil {
		t.Fatal(err)
	}
	if inv.APIVersion != APIVersion || inv.Kind != KindCluster || len(inv.Notices) != 1 || !strings.Contains(inv.Notices[0], "add `apiVersion: clusterctl/v1` and `kind: Cluster`") {
		t.Fatalf("apiVersion %q kind %q notices %q", inv.APIVersion, inv.Kind, inv.Notices)
	}
	inv, err = parse("inventory.yaml", []byte("apiVersion: clusterctl/v1\nkind: Cluster\n"+base), "/inv", "/home/u")
	if err != nil || len(inv.Notices) != 0 {
		t.Fatalf("a versioned file: %v, notices %q", err, inv.Notices)
	}
}

// What Java's regex accepts is not Go's: Java-only constructs pass (they
// are left to Tomcat), broken patterns and Go-only syntax do not.
func TestJavaRegexp(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{`.*\.(ico|png|gif|jpg|jpeg|css|js|html|txt)$`, true}, // the lab's
		{`^/static/(?!private).*`, true},                      // lookahead: Java only
		{`(a)\1`, true},                                       // back-reference: Java only
		{`a++b`, true},                                        // possessive: Java only
		{`(?<ext>\.png)$`, true},                              // Java's named group
		{`.*\.(ico|png$`, false},                              // unbalanced
		{`*.png`, false},                                      // nothing to repeat
		{`(?P<ext>\.png)$`, false},                            // Go's named group
	} {
		if err := javaRegexp(tc.p); (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

// A quote left open swallows the lines after it, and the parser fails
// only at the next quote character, lines later: the error is placed at
// the opening quote and says where the parser gave up.
func TestAnUnclosedQuoteIsReportedWhereItOpens(t *testing.T) {
	data, err := os.ReadFile("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`"`, `'`} {
		doc := strings.Replace(string(data), "  name: shone\n", "  name: "+q+"shone\n", 1)
		line := strings.Count(doc[:strings.Index(doc, "name: "+q+"shone")], "\n") + 1
		_, err := parse("inventory.yaml", []byte(doc), "/inv", "/home/u")
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 {
			t.Fatalf("%s: want one error, got %v", q, err)
		}
		if e := list[0]; e.Line != line || e.Column != 9 || !strings.Contains(e.Msg, "not closed on its line: it runs on to line") {
			t.Errorf("%s: got %s, want %d:9 at the opening quote", q, e, line)
		}
	}
	// A quoted value that legitimately spans lines is left alone, and an
	// error far from it is not blamed on it.
	doc := "cluster:\n  name: \"two\n    lines\"\n  domain: x\n   bad: y\n"
	_, err = parse("inventory.yaml", []byte(doc), "/inv", "/home/u")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Line != 5 {
		t.Errorf("an error two lines after a closed multi-line quote: %v, want it at line 5", err)
	}
}

// nestedDoc is a document nested depth levels deep in one of YAML's ways.
func nestedDoc(kind string, depth int) string {
	switch kind {
	case "flow sequences":
		return "cluster:\n  name: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
	case "flow mappings":
		return "cluster:\n" + strings.Repeat("{a: ", depth) + "1" + strings.Repeat("}", depth) + "\n"
	case "compact sequences":
		return "hosts:\n" + strings.Repeat("- ", depth) + "x\n"
	default: // block mappings, one more space per level
		var b strings.Builder
		for i := range depth {
			b.WriteString(strings.Repeat(" ", i) + "a:\n")
		}
		return b.String()
	}
}

// A document nested deeper than maxDepth is refused by the pre-scan, at
// the byte that went too deep, before the decoder spends seconds on it;
// real inventories, with quoted brackets, block scalars and comments,
// pass the scan.
func TestDeepNestingIsRefusedAtItsPlace(t *testing.T) {
	for _, kind := range []string{"flow sequences", "flow mappings", "compact sequences", "block mappings"} {
		for _, depth := range []int{maxDepth + 1, 50000} {
			if kind == "block mappings" && depth > 1000 {
				depth = 1000 // 1000 levels of block indentation is already a 500 kB file
			}
			doc := nestedDoc(kind, depth)
			e := nestingError("inventory.yaml", []byte(doc))
			if e == nil {
				t.Errorf("%s %d deep: not refused", kind, depth)
				continue
			}
			if e.Line == 0 || e.Column == 0 || !strings.Contains(e.Msg, "nested more than 64 levels deep") {
				t.Errorf("%s %d deep: %s, want a line, a column and the limit", kind, depth, e)
			}
		}
		if e := nestingError("inventory.yaml", []byte(nestedDoc(kind, 10))); e != nil {
			t.Errorf("%s 10 deep: refused: %s", kind, e)
		}
	}
	data, err := os.ReadFile("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	brackets := strings.Repeat("[", maxDepth+1)
	for name, doc := range map[string]string{
		"the shipped inventory":          string(data),
		"brackets in quotes":             "cluster:\n  name: \"" + brackets + "\"\n  domain: '" + brackets + "'\n",
		"brackets in a comment":          "cluster:  # " + brackets + "\n  name: x\n",
		"brackets in a block scalar":     "cluster:\n  motd: |\n    " + brackets + "\n    " + brackets + "\n  name: x\n",
		"brackets inside a plain scalar": "cluster:\n  name: a" + brackets + "\n",
	} {
		if e := nestingError("inventory.yaml", []byte(doc)); e != nil {
			t.Errorf("%s: refused: %s", name, e)
		}
	}
}

package inventory

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// base is a small valid inventory. Error cases change one line of it, so each
// case shows exactly what is wrong.
const base = `cluster:
  name: lab
  domain: lab.test
  timezone: UTC
ssh:
  user: root
  port: 22
  connect_timeout: 10s
hosts:
  - name: proxy
    address: 10.0.0.8
    roles: [proxy]
  - name: t58
    address: 10.0.0.58
    roles: [tomcat, memcached]
  - name: t68
    address: 10.0.0.68
    roles: [tomcat, memcached]
java:
  install: tarball
  tarball: jdk.tar.gz
tomcat:
  version: 9.0.70
  port: 8080
memcached:
  port: 11211
msm:
  sticky: true
  serializer: java
  operation_timeout: 1s
nginx:
  listen: 80
  balance: sticky
`

// edit replaces, in base, each old with its new (pairs: old1, new1, old2,
// new2, ...). It fails the test unless each old occurs exactly once, so a
// case cannot silently test the valid base.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	return editText(t, base, pairs...)
}

// editText is edit on any text.
func editText(t *testing.T, text string, pairs ...string) string {
	t.Helper()
	if len(pairs)%2 != 0 {
		t.Fatal("edit: odd number of arguments")
	}
	for i := 0; i < len(pairs); i += 2 {
		if n := strings.Count(text, pairs[i]); n != 1 {
			t.Fatalf("edit: %q occurs %d times, want 1", pairs[i], n)
		}
		text = strings.Replace(text, pairs[i], pairs[i+1], 1)
	}
	return text
}

// marker is put in a test YAML right where the error must point.
const marker = "⇒"

// cutMarker removes the marker and returns the 1-based line and column
// (counted in characters, as yaml.v3 does) where it stood.
func cutMarker(t *testing.T, text string) (string, int, int) {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("no %s marker in test YAML", marker)
	}
	before := text[:i]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:]) + 1
	return strings.Replace(text, marker, "", 1), line, col
}

// parseTest runs the pipeline with a fixed base directory and home.
func parseTest(text string) (*Inventory, error) {
	return parse("inventory.yaml", []byte(text), "/inv", "/home/u")
}

func mustParse(t *testing.T, text string) *Inventory {
	t.Helper()
	inv, err := parseTest(text)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return inv
}

// errorList asserts err is a non-empty ErrorList and returns it.
func errorList(t *testing.T, err error) ErrorList {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("want an ErrorList, got %T %v", err, err)
	}
	return list
}

// singleErrorAtMarker parses markedYAML without its marker, asserts exactly
// one error came back and returns it with the marker's line and column.
func singleErrorAtMarker(t *testing.T, markedYAML string) (e *Error, err error, line, col int) {
	t.Helper()
	text, line, col := cutMarker(t, markedYAML)
	_, err = parseTest(text)
	list := errorList(t, err)
	if len(list) != 1 {
		t.Fatalf("want exactly 1 error, got %d:\n%v", len(list), list)
	}
	return list[0], err, line, col
}

package inventory

import (
	"strings"
	"testing"
)

// TestFileErrors loads whole files from testdata, with the expected positions
// written out, through Load itself (so File is the path as given).
func TestFileErrors(t *testing.T) {
	type want struct {
		line, col int
		field     string
		msg       string
	}
	cases := []struct {
		file string
		want []want
	}{
		// An empty file has no position to point at: Line and Column are 0.
		{"empty.yaml", []want{{0, 0, "", "the file is empty"}}},
		{"comments_only.yaml", []want{{0, 0, "", "the file is empty"}}},
		// yaml.v3 reports syntax errors with a line only: Column is 0.
		{"syntax_error.yaml", []want{{5, 6, "", "YAML syntax: mapping value is not allowed in this context"}}},
		{"tab_indent.yaml", []want{{2, 1, "", "YAML syntax: found character '\t' that cannot start any token"}}},
		{"duplicate_keys.yaml", []want{
			{4, 1, "cluster", `key "cluster" is already defined at line 1`},
			{10, 5, "hosts[0].roles", `key "roles" is already defined at line 9`},
		}},
		// Several problems are reported together, in file order.
		{"two_errors.yaml", []want{
			{9, 14, "hosts[1].address", `"10.0.0.300" is not an IP address`},
			{19, 11, "nginx.listen", "70000 is out of range 1-65535"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := "testdata/" + tc.file
			_, err := Load(path)
			list := errorList(t, err)
			if len(list) != len(tc.want) {
				t.Fatalf("want %d errors, got %d:\n%v", len(tc.want), len(list), err)
			}
			for i, w := range tc.want {
				e := list[i]
				if e.File != path || e.Line != w.line || e.Column != w.col || e.Field != w.field || !strings.Contains(e.Msg, w.msg) {
					t.Errorf("error %d = %#v\nwant %s:%d:%d field %q msg ~%q", i, *e, path, w.line, w.col, w.field, w.msg)
				}
			}
			if tc.file == "two_errors.yaml" {
				wantText := path + ":9:14: hosts[1].address: \"10.0.0.300\" is not an IP address\n" +
					path + ":19:11: nginx.listen: 70000 is out of range 1-65535"
				if err.Error() != wantText {
					t.Errorf("ErrorList.Error() =\n%s\nwant\n%s", err, wantText)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Fatalf("got %v", err)
	}
}

package inventory

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in an inventory file, pointing at the place to fix.
type Error struct {
	File   string // the path given to Load
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown (yaml.v3 syntax errors carry only a line)
	Field  string // e.g. "hosts[1].address"; empty for the document as a whole
	Msg    string // never contains a secret value
	// Excerpt is the offending line with a caret under the column, for
	// syntax errors; printed on the lines after the message.
	Excerpt string
}

// Error reads like `inventory.yaml:14:5: hosts[1].address: "x" is not an IP address`,
// the file:line:column form editors and terminals make clickable.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Excerpt != "" {
		b.WriteString("\n" + e.Excerpt)
	}
	return b.String()
}

// ErrorList is every problem Load found, in file order. Load returns it
// (never an empty one) so that errors.As(err, &list) works.
type ErrorList []*Error

// Error prints one problem per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find an individual *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sorted orders problems by position so the output reads top to bottom;
// problems without a position (line 0) come first, they concern the whole file.
func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
	return l
}

// errOrNil avoids the typed-nil trap: an empty ErrorList must become a nil error.
func (l ErrorList) errOrNil() error {
	if len(l) == 0 {
		return nil
	}
	return l.sorted()
}

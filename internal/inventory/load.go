package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"go.yaml.in/yaml/v3"
)

// Load reads, strictly decodes, defaults and validates the inventory at path.
// A problem with the file's content is returned as an ErrorList; failing to
// read the file is returned as the underlying *fs.PathError.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for content already in memory. file names the content in
// messages, and its directory is where relative paths resolve from.
func Parse(file string, data []byte) (*Inventory, error) {
	baseDir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	home, _ := os.UserHomeDir() // empty if unknown: validation then reports the unexpanded "~"
	return parse(file, data, baseDir, home)
}

// parse is the whole pipeline with its environment (directory, home) passed
// in, so tests control it: decode -> applyDefaults -> validate.
func parse(file string, data []byte, baseDir, home string) (*Inventory, error) {
	root, errs := parseYAML(file, data)
	if errs != nil {
		return nil, errs.errOrNil()
	}
	d := &decoder{file: file, pos: positions{"": {root.Line, root.Column}}}
	inv := &Inventory{file: file, baseDir: baseDir}
	d.value(root, reflect.ValueOf(inv).Elem(), "", false)
	if len(d.errs) > 0 {
		// Validating half-decoded values would only add confusing follow-up errors.
		return nil, d.result()
	}
	applyDefaults(inv, d.pos, home)
	inv.pos = d.pos
	if err := validate(inv, d.pos); err != nil {
		return nil, err
	}
	return inv, nil
}

// parseYAML returns the single document's root node. A syntax error is
// placed by syntaxError: go.yaml.in/yaml/v3 (the decoder) names a line,
// often that of the enclosing block, and never a column.
func parseYAML(file string, data []byte) (*yaml.Node, ErrorList) {
	if e := encodingError(file, data); e != nil {
		return nil, ErrorList{e}
	}
	if e := nestingError(file, data); e != nil {
		return nil, ErrorList{e}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{File: file, Msg: "the file is empty; see inventory.yaml in the clusterctl repository for an example"}}
		}
		return nil, ErrorList{syntaxError(file, data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, ErrorList{{File: file, Line: extra.Line, Column: extra.Column, Msg: "only one YAML document is allowed (found a second one after ---)"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, ErrorList{syntaxError(file, data, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ErrorList{{File: file, Msg: "the file is empty; see inventory.yaml in the clusterctl repository for an example"}}
	}
	return doc.Content[0], nil
}

// encodingError finds what YAML forbids before any syntax: a NUL or other
// control character, bytes that are not UTF-8. The decoder names neither
// line nor column for them; the bytes say exactly where.
func encodingError(file string, data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return withExcerpt(&Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf("YAML syntax: byte 0x%02x is not UTF-8 (save the file as UTF-8)", data[i])}, data)
		case r < 0x20 && r != '\n' && r != '\r' && r != '\t':
			return withExcerpt(&Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf("YAML syntax: control character U+%04X is not allowed", r)}, data)
		case r == '\n':
			line, col = line+1, 1
		default:
			col++
		}
		i += size
	}
	return nil
}

// yamlLine pulls the line number out of the decoder's "yaml: line 7: ..."
// messages; unknownAnchor its "unknown anchor 'x' referenced".
var (
	yamlLine      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '([^']*)' referenced`)
)

// syntaxError places a syntax error by what goccy/go-yaml's parser, which
// tracks line and column of every token, finds wrong in the same bytes;
// an alias to no anchor is placed where the alias is used. Where neither
// knows better, the decoder's own line stays.
func syntaxError(file string, data []byte, err error) *Error {
	e := &Error{File: file, Msg: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "YAML syntax: " + m[2]
	}
	if m := unknownAnchor.FindStringSubmatch(err.Error()); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			e.Line, e.Column = lineCol(data, i)
			e.Msg = fmt.Sprintf("YAML syntax: alias *%s names no anchor (&%s) written before it", m[1], m[1])
		}
		return withExcerpt(e, data)
	}
	var se interface {
		GetToken() *token.Token
		GetMessage() string
	}
	decoderLine := e.Line
	if _, perr := parser.ParseBytes(data, 0); perr != nil && errors.As(perr, &se) && se.GetToken() != nil {
		p := se.GetToken().Position
		e.Line, e.Column = p.Line, p.Column
		e.Msg = "YAML syntax: " + se.GetMessage()
		// A key indented deeper than its siblings: goccy blames the value
		// before it, the decoder names the right line; the key starts at
		// the line's first non-blank column.
		if strings.Contains(e.Msg, "mapping value is not allowed") && decoderLine > e.Line {
			lines := strings.Split(string(data), "\n")
			if decoderLine <= len(lines) {
				l := lines[decoderLine-1]
				e.Line, e.Column = decoderLine, len(l)-len(strings.TrimLeft(l, " \t"))+1
			}
		}
	}
	if q := runawayQuote(data, e.Line); q != nil {
		kind := "double"
		if q.Type == token.SingleQuoteType {
			kind = "single"
		}
		e.Msg = fmt.Sprintf("YAML syntax: this %s-quoted string is not closed on its line: it runs on to line %d, where the parser gave up (%s); close it, or quote a multi-line value with | instead",
			kind, e.Line, strings.TrimPrefix(e.Msg, "YAML syntax: "))
		e.Line, e.Column = q.Position.Line, q.Position.Column
	}
	return withExcerpt(e, data)
}

// runawayQuote finds the quoted string that a syntax error at line is
// most likely the fault of: one opened on an earlier line that runs on
// past it, or ends on it or the line before. A quote left open swallows
// the lines after it until the next quote character, and the parser
// fails only there, often many lines later.
func runawayQuote(data []byte, line int) *token.Token {
	if line < 2 {
		return nil
	}
	var found *token.Token
	for _, tk := range lexer.Tokenize(string(data)) {
		if tk.Position.Line >= line {
			break
		}
		if tk.Type != token.DoubleQuoteType && tk.Type != token.SingleQuoteType {
			continue
		}
		last := tk.Position.Line + strings.Count(strings.TrimLeft(tk.Origin, " \t\r\n"), "\n")
		if last > tk.Position.Line && last >= line-1 {
			found = tk
		}
	}
	return found
}

func lineCol(data []byte, off int) (int, int) {
	line := bytes.Count(data[:off], []byte("\n")) + 1
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, utf8.RuneCount(data[start:off]) + 1
}

// withExcerpt adds the offending line and a caret under the column, as
// compilers print them.
func withExcerpt(e *Error, data []byte) *Error {
	lines := strings.Split(string(data), "\n")
	if e.Line < 1 || e.Line > len(lines) {
		return e
	}
	l := strings.ToValidUTF8(strings.TrimRight(lines[e.Line-1], "\r"), "?")
	l = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' {
			return '?'
		}
		return r
	}, l)
	if len(l) > 200 {
		l = l[:200] + "..."
	}
	e.Excerpt = "    " + l
	if e.Column > 0 {
		pad := []rune(l)
		n := min(e.Column-1, len(pad))
		var b strings.Builder
		for _, r := range pad[:n] {
			if r == '\t' {
				b.WriteRune('\t')
			} else {
				b.WriteByte(' ')
			}
		}
		e.Excerpt += "\n    " + b.String() + "^"
	}
	return e
}

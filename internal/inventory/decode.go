package inventory

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder fills the schema structs from a yaml.Node tree, strictly: unknown
// and duplicate keys and wrong types are errors, and every error carries the
// position of the offending node and its field path. It keeps going after an
// error so that one run reports everything.
type decoder struct {
	file string
	errs ErrorList
	more int       // problems found beyond MaxErrors, counted, not described
	pos  positions // field path -> position of its value, for validation messages
}

// MaxErrors is how many problems a load reports: enough to fix a file in
// one go, bounded for a file of a million wrong keys (the rest are
// counted, and describing them, "did you mean" included, is skipped).
const MaxErrors = 50

func (d *decoder) full() bool {
	if len(d.errs) >= MaxErrors {
		d.more++
		return true
	}
	return false
}

// result is the decode's ErrorList, with the count of those left out.
func (d *decoder) result() ErrorList {
	if d.more > 0 {
		d.errs = append(d.errs.sorted(), &Error{File: d.file, Msg: fmt.Sprintf("... and %d more problems (only the first %d are shown)", d.more, MaxErrors)})
	}
	return d.errs
}

var durationType = reflect.TypeOf(Duration(0))

// secretKeys are keys people write when they try to put a secret in the file.
// They get their own message (pointing at the *_env field) that never echoes the value.
var secretKeys = map[string]string{
	"password":   "password_env",
	"passwd":     "password_env",
	"pass":       "password_env",
	"passphrase": "passphrase_env",
	"secret":     "password_env",
	"token":      "password_env",
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	if d.full() {
		return
	}
	e := &Error{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// value decodes n into v. A YAML null (`key:`, `key: ~`) leaves v untouched,
// exactly as if the key were absent, so defaults still apply to it.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string, noEcho bool) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		// An error in an aliased value is placed where the alias is used:
		// that is the line to change.
		target := *n.Alias
		target.Line, target.Column = n.Line, n.Column
		n = &target
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	d.pos[path] = position{n.Line, n.Column}

	if v.Type() == durationType {
		d.duration(n, v, path, noEcho)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path, noEcho)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path, noEcho)
	case reflect.String:
		d.str(n, v, path, noEcho)
	case reflect.Int:
		d.integer(n, v, path, noEcho)
	case reflect.Bool:
		d.boolean(n, v, path, noEcho)
	default:
		panic("inventory: schema field of unsupported kind " + v.Kind().String() + " at " + path)
	}
}

// field is one settable struct field, by its YAML key.
type field struct {
	index  int
	noEcho bool
}

func fieldsOf(t reflect.Type) map[string]field {
	fields := map[string]field{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = field{index: i, noEcho: sf.Tag.Get("inv") == "noecho"}
	}
	return fields
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a map, got %s", describe(n, false))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kpath := joinPath(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			d.fail(k, path, "keys must be plain names, got %s", describe(k, true))
			continue
		case k.Value == "<<":
			d.fail(k, path, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.fail(k, kpath, "key %q is already defined at line %d", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		if envKey, isSecret := secretKeys[strings.ToLower(k.Value)]; isSecret {
			d.fail(k, kpath, "secrets must not be written in the inventory: put it in an environment variable and name that variable in ssh.%s", envKey)
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			if !d.full() {
				d.fail(k, kpath, "unknown key %q%s", k.Value, suggest(k.Value, fields))
			}
			continue
		}
		d.value(val, v.Field(f.index), kpath, f.noEcho)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string, noEcho bool) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n, noEcho))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i), noEcho)
	}
	v.Set(s)
}

// str accepts any scalar that reads naturally as text (so `version: 9.0.70`
// and `name: 58` work) but not booleans: `user: true` is almost surely a mistake.
func (d *decoder) str(n *yaml.Node, v reflect.Value, path string, noEcho bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!bool" || n.ShortTag() == "!!binary" {
		d.fail(n, path, "want a string, got %s", describe(n, noEcho))
		return
	}
	v.SetString(n.Value)
}

func (d *decoder) integer(n *yaml.Node, v reflect.Value, path string, noEcho bool) {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.fail(n, path, "want an integer, got %s", describe(n, noEcho))
		return
	}
	v.SetInt(int64(i))
}

func (d *decoder) boolean(n *yaml.Node, v reflect.Value, path string, noEcho bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.fail(n, path, "want true or false, got %s", describe(n, noEcho))
		return
	}
	v.SetBool(b)
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string, noEcho bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		d.fail(n, path, "want a duration with a unit, like %sms or %ss, got %s", n.Value, n.Value, describe(n, noEcho))
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.fail(n, path, "want a duration like 10s or 500ms, got %s", describe(n, noEcho))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "%q is not a duration (write e.g. 10s, 500ms, 1m30s)", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// describe names what a node is, for "want X, got Y" messages. With noEcho
// the value itself is left out.
func describe(n *yaml.Node, noEcho bool) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		kind := map[string]string{
			"!!str": "string", "!!int": "integer", "!!float": "number",
			"!!bool": "boolean", "!!timestamp": "timestamp", "!!binary": "binary",
		}[n.ShortTag()]
		if kind == "" {
			kind = "value"
		}
		if noEcho {
			return "a " + kind
		}
		if n.ShortTag() == "!!str" {
			return fmt.Sprintf("string %q", n.Value)
		}
		return kind + " " + n.Value
	}
	return "an unsupported YAML node"
}

// suggest returns `; did you mean "x"?` for a close known key, since most
// unknown keys are typos.
func suggest(key string, fields map[string]field) string {
	best, bestDist := "", 3 // more than 2 edits away is not a typo
	for name := range fields {
		if dist := editDistance(strings.ToLower(key), name); dist < bestDist || (dist == bestDist && name < best) {
			best, bestDist = name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

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

	"gopkg.in/yaml.v3"
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
		return nil, d.errs.errOrNil()
	}
	applyDefaults(inv, d.pos, home)
	if err := validate(inv, d.pos); err != nil {
		return nil, err
	}
	return inv, nil
}

// yamlLine pulls the line number out of yaml.v3's "yaml: line 7: ..." messages.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the single document's root node. yaml.v3 reports syntax
// errors with a line but no column, so syntax errors have Column 0.
func parseYAML(file string, data []byte) (*yaml.Node, ErrorList) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{File: file, Msg: "the file is empty; see inventory.yaml in the clusterctl repository for an example"}}
		}
		return nil, ErrorList{syntaxError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, ErrorList{{File: file, Line: extra.Line, Column: extra.Column, Msg: "only one YAML document is allowed (found a second one after ---)"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, ErrorList{syntaxError(file, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ErrorList{{File: file, Msg: "the file is empty; see inventory.yaml in the clusterctl repository for an example"}}
	}
	return doc.Content[0], nil
}

func syntaxError(file string, err error) *Error {
	e := &Error{File: file, Msg: err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "YAML syntax: " + m[2]
	}
	return e
}

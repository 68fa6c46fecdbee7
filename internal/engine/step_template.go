package engine

import (
	"bytes"
	"context"
	"fmt"
	"text/template"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Template renders a text/template and then behaves exactly as File.
// Set either Text (parsed on each Check, with missingkey=error so a typo in
// a variable name fails instead of writing "<no value>") or Parsed.
type Template struct {
	Path   string
	Text   string
	Parsed *template.Template
	// Data is the template's dot; nil means TemplateData for the host.
	Data      any
	Meta      remote.FileMeta
	Sensitive bool
	Validate  string
	Backup    bool
	Label     string // title override; default "template <Path>"
}

// TemplateData is the dot of a Template without Data.
type TemplateData struct {
	Host  string
	Facts Facts
	Vars  map[string]any
}

func (t Template) Title() string {
	if t.Label != "" {
		return t.Label
	}
	return "template " + t.Path
}

func (t Template) Probes(*Host) []string { return []string{statAndReadCmd(t.Path)} }

func (t Template) Check(ctx context.Context, h *Host) (*Change, error) {
	content, err := t.Render(h)
	if err != nil {
		return nil, err
	}
	return File{Path: t.Path, Content: content, Meta: t.Meta, Sensitive: t.Sensitive, Validate: t.Validate, Backup: t.Backup}.Check(ctx, h)
}

// Render returns the content the template produces for h.
func (t Template) Render(h *Host) ([]byte, error) {
	tmpl := t.Parsed
	if tmpl == nil {
		var err error
		if tmpl, err = template.New(t.Path).Option("missingkey=error").Parse(t.Text); err != nil {
			return nil, fmt.Errorf("parse template for %s: %w", t.Path, err)
		}
	}
	data := t.Data
	if data == nil {
		data = TemplateData{Host: h.Name(), Facts: h.Facts, Vars: h.Vars}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		if t.Sensitive { // the error may quote a rendered value
			return nil, fmt.Errorf("render template for %s failed (details hidden: sensitive)", t.Path)
		}
		return nil, fmt.Errorf("render template for %s: %w", t.Path, err)
	}
	return buf.Bytes(), nil
}

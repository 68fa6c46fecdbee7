package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Directory makes Path a directory (parents included) with Meta's mode and
// ownership; zero fields of Meta are left as they are.
type Directory struct {
	Path  string
	Meta  remote.FileMeta
	Label string // title override; default "directory <Path>"
}

func (d Directory) Title() string {
	if d.Label != "" {
		return d.Label
	}
	return "directory " + d.Path
}

// Probes: the stat (a missing directory's parents are looked up live).
func (d Directory) Probes(*Host) []string { return []string{statCmd(d.Path)} }

func (d Directory) Check(ctx context.Context, h *Host) (*Change, error) {
	info, err := statPath(ctx, h, d.Path)
	if err != nil {
		return nil, err
	}
	if info.Exists && !info.isDir() {
		return nil, fmt.Errorf("%s exists and is a %s, not a directory", d.Path, info.Type)
	}
	var summary string
	var cmds []string
	var rec Record
	if !info.Exists {
		dry := planOf(ctx)
		if m, ok := dry.dir(d.Path); ok && m == d.Meta {
			return nil, nil // an earlier step would create it, just so
		}
		dry.mkdir(d.Path, d.Meta)
		// mkdir -p may create parents too: teardown removes the topmost
		// directory this step creates, so find it now, before it exists.
		top, err := h.run(ctx, "find missing parents of "+d.Path, topMissingCmd(d.Path))
		if err != nil {
			return nil, err
		}
		rec = Record{Kind: RecordDirCreated, Path: strings.TrimSpace(top.Stdout)}
		if rec.Path == "" {
			rec.Path = d.Path
		}
		summary = "create " + d.Path
		cmds = append(cmds, "mkdir -p "+Quote(d.Path))
		// Against the zero pathInfo every field Meta sets counts as drift.
		if fix := metaFixCmd(d.Path, pathInfo{}, d.Meta); fix != "" {
			cmds = append(cmds, fix)
		}
	} else {
		drift := metaDrift(info, d.Meta)
		if len(drift) == 0 {
			return nil, nil
		}
		rec = Record{Kind: RecordDirChanged, Path: d.Path, Mode: fmt.Sprintf("%04o", remote.UnixMode(info.Mode)), Owner: info.Owner, Group: info.Group}
		summary = d.Path + ": " + strings.Join(drift, "; ")
		cmds = append(cmds, metaFixCmd(d.Path, info, d.Meta))
	}
	cmd := strings.Join(cmds, " && ")
	return &Change{
		Summary: summary,
		Records: []Record{rec},
		Apply: func(ctx context.Context) error {
			_, err := h.run(ctx, "create directory "+d.Path, cmd)
			return err
		},
	}, nil
}

// topMissingCmd prints the topmost ancestor of p (p included) that does
// not exist yet.
func topMissingCmd(p string) string {
	return fmt.Sprintf(`p=%s; top=$p; while [ "$p" != / ] && [ ! -e "$p" ] && [ ! -L "$p" ]; do top=$p; p=$(dirname "$p"); done; printf '%%s\n' "$top"`, Quote(p))
}

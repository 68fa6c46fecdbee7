package teardown

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// editedSuffix names the copy of a hand-edited file teardown keeps next to
// the restored original, e.g. /etc/hosts.clusterctl-edited-20261125T101500Z.
const editedSuffix = ".clusterctl-edited-"

// pathStep puts one path back as it was before apply (see PathUndo).
type pathStep struct {
	u     PathUndo
	stamp string // UTC time for the name of an edited copy
}

func (s pathStep) Title() string {
	p := s.u.Path()
	switch s.u.First.Kind {
	case engine.RecordFileReplaced:
		return "restore " + p
	case engine.RecordSymlinkReplaced:
		return "repoint " + p
	case engine.RecordDirChanged:
		return "restore mode of " + p
	}
	return "remove " + p
}

func (s pathStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	r := s.u.First
	p := r.Path
	q := engine.Quote(p)
	switch r.Kind {
	case engine.RecordFileReplaced:
		return s.restoreFile(ctx, h)
	case engine.RecordDirChanged:
		st, err := probe(ctx, h, p)
		if err != nil || st[0].Type != "dir" {
			return nil, err // gone (or no longer a directory): nothing to put back
		}
		// stat prints "755", the record "0755": compare without leading zeros.
		if strings.TrimLeft(st[0].Meta, "0") == strings.TrimLeft(r.Mode, "0")+" "+r.Owner+" "+r.Group {
			return nil, nil
		}
		cmd := fmt.Sprintf("chmod %s %s && chown %s %s", r.Mode, q, engine.Quote(r.Owner+":"+r.Group), q)
		return change(h, fmt.Sprintf("%s: %s -> %s %s %s", p, st[0].Meta, r.Mode, r.Owner, r.Group), "restore mode of "+p, cmd), nil
	case engine.RecordSymlinkReplaced:
		st, err := probe(ctx, h, p)
		if err != nil {
			return nil, err
		}
		if st[0].Type == "link" && st[0].Target == r.Previous {
			return nil, nil
		}
		if st[0].Type != "link" && st[0].Type != "absent" {
			return nil, fmt.Errorf("%s is no longer a symlink (%s): left alone", p, st[0].Type)
		}
		return change(h, fmt.Sprintf("repoint %s -> %s", p, r.Previous), "repoint "+p,
			"ln -sfn "+engine.Quote(r.Previous)+" "+q), nil
	}

	// The rest were absent before apply: remove.
	st, err := probe(ctx, h, p)
	if err != nil {
		return nil, err
	}
	cur := st[0]
	if cur.Type == "absent" {
		return nil, nil
	}
	switch r.Kind {
	case engine.RecordFileCreated:
		if cur.Type != "file" {
			return nil, fmt.Errorf("%s is no longer a regular file (%s): left alone", p, cur.Type)
		}
		if !slices.Contains(s.u.Written, cur.SHA256) {
			kept := p + editedSuffix + s.stamp
			return change(h, fmt.Sprintf("remove %s: edited by hand after apply, the edit is kept as %s", p, kept),
				"remove "+p, "mv -f "+q+" "+engine.Quote(kept)), nil
		}
		return change(h, "remove "+p, "remove "+p, "rm -f "+q), nil
	case engine.RecordSymlinkCreated:
		if cur.Type != "link" {
			return nil, fmt.Errorf("%s is no longer a symlink (%s): left alone", p, cur.Type)
		}
		return change(h, "remove "+p+" -> "+cur.Target, "remove "+p, "rm -f "+q), nil
	case engine.RecordDirCreated, engine.RecordCommandCreated:
		if err := removable(p); err != nil {
			return nil, err
		}
		// -r: apply created the whole tree (an unpacked tarball, a dir
		// and what its steps put in it).
		return change(h, "remove "+p+" (recursively)", "remove "+p, "rm -rf "+q), nil
	}
	return nil, fmt.Errorf("%s: unknown record kind %q", p, r.Kind)
}

// restoreFile puts the backup back. A current content that apply never
// wrote (and that is not the original either) is a hand edit: it is kept
// aside rather than silently lost.
func (s pathStep) restoreFile(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	r := s.u.First
	p, b := r.Path, r.Backup
	if b == "" {
		b = engine.BackupPath(engine.DefaultStateDir, p)
	}
	st, err := probe(ctx, h, p, b)
	if err != nil {
		return nil, err
	}
	cur, orig := st[0], st[1]
	if orig.Type != "file" {
		return nil, fmt.Errorf("cannot restore %s: its backup %s is %s", p, b, orig.Type)
	}
	if cur.Type == "file" && cur.SHA256 == orig.SHA256 && cur.Meta == orig.Meta {
		return nil, nil
	}
	if cur.Type != "file" && cur.Type != "absent" {
		return nil, fmt.Errorf("%s is no longer a regular file (%s): left alone", p, cur.Type)
	}
	tmp := path.Join(path.Dir(p), "."+path.Base(p)+".clusterctl-restore")
	// cp -a keeps the original's mode, owner and times; the rename makes
	// the switch atomic, as apply's own writes are.
	restore := fmt.Sprintf("mkdir -p %s && cp -a -- %s %s && mv -f %s %s",
		engine.Quote(path.Dir(p)), engine.Quote(b), engine.Quote(tmp), engine.Quote(tmp), engine.Quote(p))
	summary := "restore " + p + " from " + b
	if cur.Type == "file" && cur.SHA256 != orig.SHA256 && !slices.Contains(s.u.Written, cur.SHA256) {
		kept := p + editedSuffix + s.stamp
		summary = fmt.Sprintf("restore %s: edited by hand after apply, the edit is kept as %s", p, kept)
		restore = "cp -a -- " + engine.Quote(p) + " " + engine.Quote(kept) + " && " + restore
	} else if cur.Type == "file" && cur.SHA256 == orig.SHA256 {
		summary = fmt.Sprintf("restore mode/owner of %s (%s -> %s)", p, cur.Meta, orig.Meta)
	}
	return change(h, summary, "restore "+p, restore), nil
}

// change is a Change whose Apply runs one command.
func change(h *engine.Host, summary, what, cmd string) *engine.Change {
	return &engine.Change{Summary: summary, Apply: func(ctx context.Context) error {
		_, err := run(ctx, h, what, cmd)
		return err
	}}
}

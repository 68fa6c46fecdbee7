package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// File makes Path hold exactly Content, with Meta's mode and ownership.
type File struct {
	Path    string
	Content []byte
	Meta    remote.FileMeta // zero fields keep what the existing file has
	// Sensitive keeps the content out of diffs, summaries and errors.
	Sensitive bool
	// Validate, when set, is run against a temporary copy before it
	// replaces Path; %s is replaced by that copy's (quoted) path, e.g.
	// "nginx -t -c %s". A non-zero exit leaves the old file in place.
	Validate string
	// Backup keeps the replaced file as Path.<UTC time>.bak.
	Backup bool
	Label  string // title override; default "file <Path>"
}

func (f File) Title() string {
	if f.Label != "" {
		return f.Label
	}
	return "file " + f.Path
}

func (f File) Check(ctx context.Context, h *Host) (*Change, error) {
	return fileSpec{path: f.Path, meta: f.Meta, sensitive: f.Sensitive, validate: f.Validate, backup: f.Backup}.
		check(ctx, h, func([]byte, bool) ([]byte, error) { return f.Content, nil })
}

// fileSpec is how File, Template and Block write: they differ only in how
// the wanted content is derived from the current one.
type fileSpec struct {
	path      string
	meta      remote.FileMeta
	sensitive bool
	validate  string
	backup    bool
}

// errLeaveAlone tells check that the file is to stay as it is (absent).
var errLeaveAlone = errors.New("leave the file alone")

// check reads the file, derives the wanted content with want(current,
// exists), and returns a Change when content or metadata differ.
func (s fileSpec) check(ctx context.Context, h *Host, want func(cur []byte, exists bool) ([]byte, error)) (*Change, error) {
	if s.validate != "" && !strings.Contains(s.validate, "%s") {
		return nil, fmt.Errorf("validate command for %s has no %%s for the file to check", s.path)
	}
	info, err := statPath(ctx, h, s.path)
	if err != nil {
		return nil, err
	}
	if info.Exists && !info.isRegular() {
		return nil, fmt.Errorf("%s exists and is a %s, not a regular file", s.path, info.Type)
	}
	var cur []byte
	if info.Exists {
		if cur, _, err = h.Conn.ReadFile(ctx, s.path); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.path, err)
		}
	}
	content, err := want(cur, info.Exists)
	if err == errLeaveAlone {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	contentDiffers := !info.Exists || !bytes.Equal(cur, content)
	drift := metaDrift(info, s.meta)
	if !contentDiffers && len(drift) == 0 {
		return nil, nil
	}

	c := &Change{Sensitive: s.sensitive}
	var parts []string
	switch {
	case !info.Exists:
		parts = append(parts, fmt.Sprintf("create %s (%d bytes)", s.path, len(content)))
	case contentDiffers && s.sensitive:
		parts = append(parts, "update "+s.path)
	case contentDiffers:
		_, added, removed := unifiedDiff("", "", cur, content)
		parts = append(parts, fmt.Sprintf("update %s (+%d -%d lines)", s.path, added, removed))
	}
	parts = append(parts, drift...)
	c.Summary = strings.Join(parts, "; ")
	if contentDiffers {
		if s.sensitive {
			c.Diff = HiddenDiff
		} else {
			old := "a" + s.path
			if !info.Exists {
				old = "/dev/null"
			}
			c.Diff = UnifiedDiff(old, "b"+s.path, cur, content)
		}
	}
	if contentDiffers {
		c.Apply = func(ctx context.Context) error { return s.write(ctx, h, content, info) }
	} else {
		fix := metaFixCmd(s.path, info, s.meta)
		c.Apply = func(ctx context.Context) error {
			_, err := h.run(ctx, "set mode/owner of "+s.path, fix)
			return err
		}
	}
	return c, nil
}

// write replaces the file. With Validate, a temp copy in the same directory
// is checked and then renamed over the real one, so a bad config is never
// live, not even for a moment; the backup is taken only once the new
// content passed.
func (s fileSpec) write(ctx context.Context, h *Host, content []byte, cur pathInfo) error {
	meta := keepMeta(s.meta, cur)
	if s.validate == "" {
		if err := s.backupFile(ctx, h, cur); err != nil {
			return err
		}
		if err := h.Conn.WriteFile(ctx, s.path, content, meta); err != nil {
			return fmt.Errorf("write %s: %w", s.path, err)
		}
		return nil
	}
	// A dot name with no extension: never picked up by conf.d/*.conf globs
	// or sudoers.d includes while it exists.
	tmp := path.Join(path.Dir(s.path), "."+path.Base(s.path)+".clusterctl-validate")
	if err := h.Conn.WriteFile(ctx, tmp, content, meta); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	cmd := strings.ReplaceAll(s.validate, "%s", Quote(tmp))
	var err error
	if s.sensitive {
		err = h.runQuiet(ctx, "validate "+s.path, cmd)
	} else {
		_, err = h.run(ctx, "validate "+s.path, cmd)
	}
	if err == nil {
		err = s.backupFile(ctx, h, cur)
	}
	if err != nil {
		_, _ = h.Conn.Run(ctx, "rm -f "+Quote(tmp))
		return fmt.Errorf("%w; %s left unchanged", err, s.path)
	}
	_, err = h.run(ctx, "install "+s.path, "mv -f "+Quote(tmp)+" "+Quote(s.path))
	return err
}

func (s fileSpec) backupFile(ctx context.Context, h *Host, cur pathInfo) error {
	if !s.backup || !cur.Exists {
		return nil
	}
	bak := s.path + "." + time.Now().UTC().Format("20060102T150405Z") + ".bak"
	_, err := h.run(ctx, "back up "+s.path, "cp -p "+Quote(s.path)+" "+Quote(bak))
	return err
}

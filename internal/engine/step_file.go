package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"

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
	// Backup is kept for compatibility and changes nothing: every file
	// apply replaces is backed up once, under the state dir's backup/, so
	// that teardown can restore it (a Path.<time>.bak next to the original
	// would be one more file teardown has to know about).
	Backup bool
	Label  string // title override; default "file <Path>"
}

func (f File) Title() string {
	if f.Label != "" {
		return f.Label
	}
	return "file " + f.Path
}

func (f File) Probes(*Host) []string { return []string{statAndReadCmd(f.Path)} }

func (f File) Check(ctx context.Context, h *Host) (*Change, error) {
	return fileSpec{path: f.Path, meta: f.Meta, sensitive: f.Sensitive, validate: f.Validate}.
		check(ctx, h, func([]byte, bool) ([]byte, error) { return f.Content, nil })
}

// fileSpec is how File, Template and Block write: they differ only in how
// the wanted content is derived from the current one.
type fileSpec struct {
	path      string
	meta      remote.FileMeta
	sensitive bool
	validate  string
}

// errLeaveAlone tells check that the file is to stay as it is (absent).
var errLeaveAlone = errors.New("leave the file alone")

// check reads the file, derives the wanted content with want(current,
// exists), and returns a Change when content or metadata differ.
func (s fileSpec) check(ctx context.Context, h *Host, want func(cur []byte, exists bool) ([]byte, error)) (*Change, error) {
	if s.validate != "" && !strings.Contains(s.validate, "%s") {
		return nil, fmt.Errorf("validate command for %s has no %%s for the file to check", s.path)
	}
	info, cur, err := statAndRead(ctx, h, s.path)
	if err != nil {
		return nil, err
	}
	if info.Exists && !info.isRegular() {
		return nil, fmt.Errorf("%s exists and is a %s, not a regular file", s.path, info.Type)
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
	c.Records = []Record{fileRecord(s.path, info.Exists, content)}
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
// live, not even for a moment. (The runner has already backed up the
// original; a failed validation leaves the file equal to that backup, which
// teardown recognises as nothing to restore.)
func (s fileSpec) write(ctx context.Context, h *Host, content []byte, cur pathInfo) error {
	meta := keepMeta(s.meta, cur)
	if s.validate == "" {
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
	if err != nil {
		_, _ = h.Conn.Run(ctx, "rm -f "+Quote(tmp))
		return fmt.Errorf("%w; %s left unchanged", err, s.path)
	}
	_, err = h.run(ctx, "install "+s.path, "mv -f "+Quote(tmp)+" "+Quote(s.path))
	return err
}

// fileRecord is the journal entry for writing content to path: created
// when it was absent, replaced (the runner backs up the original) when not.
func fileRecord(path string, existed bool, content []byte) Record {
	sum := sha256.Sum256(content)
	r := Record{Kind: RecordFileCreated, Path: path, SHA256: hex.EncodeToString(sum[:])}
	if existed {
		r.Kind = RecordFileReplaced
	}
	return r
}

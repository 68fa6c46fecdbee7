package engine

import (
	"context"
	"fmt"
	"strings"
)

// Symlink makes Path a symbolic link to Target (e.g. /opt/tomcat ->
// /opt/apache-tomcat-9.0.70). An existing link is repointed; an existing
// file or directory is an error rather than something to delete.
type Symlink struct {
	Path   string
	Target string
	Label  string // title override; default "symlink <Path>"
}

func (s Symlink) Title() string {
	if s.Label != "" {
		return s.Label
	}
	return "symlink " + s.Path
}

func (s Symlink) readlinkCmd() string { return "readlink " + Quote(s.Path) }

// Probes: the stat and, as on a converged host it is a link, the readlink.
func (s Symlink) Probes(*Host) []string { return []string{statCmd(s.Path), s.readlinkCmd()} }

func (s Symlink) Check(ctx context.Context, h *Host) (*Change, error) {
	info, err := statPath(ctx, h, s.Path)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("link %s -> %s", s.Path, s.Target)
	rec := Record{Kind: RecordSymlinkCreated, Path: s.Path, Target: s.Target}
	if info.Exists {
		if !info.isSymlink() {
			return nil, fmt.Errorf("%s exists and is a %s, not a symlink", s.Path, info.Type)
		}
		res, err := h.run(ctx, "read link "+s.Path, s.readlinkCmd())
		if err != nil {
			return nil, err
		}
		cur := strings.TrimRight(res.Stdout, "\n")
		if cur == s.Target {
			return nil, nil
		}
		summary = fmt.Sprintf("repoint %s: %s -> %s", s.Path, cur, s.Target)
		rec = Record{Kind: RecordSymlinkReplaced, Path: s.Path, Target: s.Target, Previous: cur}
	}
	return &Change{
		Summary: summary,
		Records: []Record{rec},
		Apply: func(ctx context.Context) error {
			// -n: replace a link to a directory instead of creating the
			// new link inside that directory.
			_, err := h.run(ctx, "link "+s.Path, "ln -sfn "+Quote(s.Target)+" "+Quote(s.Path))
			return err
		},
	}, nil
}

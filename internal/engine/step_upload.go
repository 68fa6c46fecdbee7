package engine

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/clusterctl/clusterctl/internal/checksum"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Upload copies a local file (a tarball, a jar) to Path. Check compares
// SHA-256 sums so a re-run transfers nothing; Apply relies on Conn.Upload,
// which skips the transfer by the same rule.
type Upload struct {
	Local string
	Path  string
	Meta  remote.FileMeta
	Label string // title override; default "upload <Path>"
}

func (u Upload) Title() string {
	if u.Label != "" {
		return u.Label
	}
	return "upload " + u.Path
}

func (u Upload) sumCmd() string { return "sha256sum " + Quote(u.Path) }

// Probes: the stat and, as on a converged host the file is there, its sum.
func (u Upload) Probes(*Host) []string { return []string{statCmd(u.Path), u.sumCmd()} }

func (u Upload) Check(ctx context.Context, h *Host) (*Change, error) {
	local, err := fileSHA256(u.Local)
	if err != nil {
		return nil, err
	}
	info, err := statPath(ctx, h, u.Path)
	if err != nil {
		return nil, err
	}
	if info.Exists && !info.isRegular() {
		return nil, fmt.Errorf("%s exists and is a %s, not a regular file", u.Path, info.Type)
	}
	var parts []string
	var diff string
	if !info.Exists {
		parts = append(parts, "create "+u.Path)
		diff = binaryDiff(u.Path, "", local, u.Local)
	} else {
		res, err := h.run(ctx, "checksum "+u.Path, u.sumCmd())
		if err != nil {
			return nil, err
		}
		remoteSum, _, _ := strings.Cut(strings.TrimSpace(res.Stdout), " ")
		if remoteSum != local {
			parts = append(parts, fmt.Sprintf("update %s (sha256 %.12s -> %.12s)", u.Path, remoteSum, local))
			diff = binaryDiff(u.Path, remoteSum, local, u.Local)
		}
		parts = append(parts, metaDrift(info, u.Meta)...)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	meta := keepMeta(u.Meta, info)
	rec := Record{Kind: RecordFileCreated, Path: u.Path, SHA256: local}
	if info.Exists {
		rec.Kind = RecordFileReplaced
	}
	return &Change{
		Summary: strings.Join(parts, "; "),
		Diff:    diff,
		Records: []Record{rec},
		Apply: func(ctx context.Context) error {
			if _, err := h.Conn.Upload(ctx, u.Local, u.Path, meta); err != nil {
				return fmt.Errorf("upload %s: %w", u.Path, err)
			}
			return nil
		},
	}, nil
}

func fileSHA256(path string) (string, error) { return checksum.SHA256(path) }

// binaryDiff is what --diff shows for an artifact: no content, but git's
// line for binary files with what a reviewer can check (size, checksum).
func binaryDiff(path, oldSum, newSum, local string) string {
	from := "/dev/null"
	if oldSum != "" {
		from = "a" + path + " (sha256 " + oldSum + ")"
	}
	size := ""
	if st, err := os.Stat(local); err == nil {
		size = fmt.Sprintf("%d bytes, ", st.Size())
	}
	return fmt.Sprintf("Binary files %s and b%s (%ssha256 %s) differ\n", from, path, size, newSum)
}

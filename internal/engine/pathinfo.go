package engine

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// pathInfo is what `stat` says about a remote path (without following a
// final symlink).
type pathInfo struct {
	Exists bool
	Type   string // "regular file", "directory", "symbolic link", ...
	Mode   fs.FileMode
	Owner  string
	Group  string
}

func (p pathInfo) isDir() bool     { return p.Type == "directory" }
func (p pathInfo) isSymlink() bool { return p.Type == "symbolic link" }
func (p pathInfo) isRegular() bool { return strings.HasPrefix(p.Type, "regular") }

// statCmd prints nothing for a missing path, so absence is not an error.
func statCmd(path string) string {
	q := Quote(path)
	return fmt.Sprintf("if [ -e %s ] || [ -L %s ]; then stat -c '%%F|%%a|%%U|%%G' %s; fi", q, q, q)
}

func statPath(ctx context.Context, h *Host, path string) (pathInfo, error) {
	res, err := h.run(ctx, "stat "+path, statCmd(path))
	if err != nil {
		return pathInfo{}, err
	}
	return parseStat(res.Stdout)
}

// statAndRead is statPath plus, for a regular file, its content, in one
// round trip: every managed file's Check needs both, and a no-op apply is
// mostly such checks.
func statAndRead(ctx context.Context, h *Host, path string) (pathInfo, []byte, error) {
	res, err := h.run(ctx, "read "+path, statAndReadCmd(path))
	if err != nil {
		return pathInfo{}, nil, err
	}
	// stat's one line, then the content byte for byte.
	line, content, _ := strings.Cut(res.Stdout, "\n")
	info, err := parseStat(line)
	if err != nil || !info.Exists || !info.isRegular() {
		return info, nil, err
	}
	return info, []byte(content), nil
}

func statAndReadCmd(path string) string {
	q := Quote(path)
	return statCmd(path) + fmt.Sprintf("; if [ -f %s ] && [ ! -L %s ]; then cat %s; fi", q, q, q)
}

func parseStat(out string) (pathInfo, error) {
	out = strings.TrimSpace(out)
	if out == "" {
		return pathInfo{}, nil
	}
	f := strings.Split(out, "|")
	if len(f) != 4 {
		return pathInfo{}, fmt.Errorf("unexpected stat output %q", out)
	}
	bits, err := strconv.ParseUint(f[1], 8, 32)
	if err != nil {
		return pathInfo{}, fmt.Errorf("unexpected stat mode %q", f[1])
	}
	return pathInfo{Exists: true, Type: f[0], Mode: remote.ModeFromUnix(uint32(bits)), Owner: f[2], Group: f[3]}, nil
}

const modeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// metaDrift lists how cur differs from want. Zero fields of want mean
// "don't care" (keep whatever is there).
func metaDrift(cur pathInfo, want remote.FileMeta) []string {
	var d []string
	if want.Mode != 0 && cur.Mode&modeBits != want.Mode&modeBits {
		d = append(d, fmt.Sprintf("mode %04o -> %04o", remote.UnixMode(cur.Mode), remote.UnixMode(want.Mode)))
	}
	if want.Owner != "" && cur.Owner != want.Owner {
		d = append(d, fmt.Sprintf("owner %s -> %s", cur.Owner, want.Owner))
	}
	if want.Group != "" && cur.Group != want.Group {
		d = append(d, fmt.Sprintf("group %s -> %s", cur.Group, want.Group))
	}
	return d
}

// metaFixCmd is the chmod/chown that brings path to want; "" when none is
// needed.
func metaFixCmd(path string, cur pathInfo, want remote.FileMeta) string {
	var cmds []string
	if want.Mode != 0 && cur.Mode&modeBits != want.Mode&modeBits {
		cmds = append(cmds, fmt.Sprintf("chmod %04o %s", remote.UnixMode(want.Mode), Quote(path)))
	}
	owner := want.Owner != "" && cur.Owner != want.Owner
	group := want.Group != "" && cur.Group != want.Group
	switch {
	case owner && group:
		cmds = append(cmds, fmt.Sprintf("chown %s:%s %s", Quote(want.Owner), Quote(want.Group), Quote(path)))
	case owner:
		cmds = append(cmds, fmt.Sprintf("chown %s %s", Quote(want.Owner), Quote(path)))
	case group:
		cmds = append(cmds, fmt.Sprintf("chgrp %s %s", Quote(want.Group), Quote(path)))
	}
	return strings.Join(cmds, " && ")
}

// keepMeta fills the fields want leaves open from the existing file, so an
// atomic replace (a new inode) does not silently reset a 0600 file to the
// transport's default mode or owner.
func keepMeta(want remote.FileMeta, cur pathInfo) remote.FileMeta {
	if !cur.Exists {
		return want
	}
	if want.Mode == 0 {
		want.Mode = cur.Mode & modeBits
	}
	if want.Owner == "" {
		want.Owner = cur.Owner
	}
	if want.Group == "" {
		want.Group = cur.Group
	}
	return want
}

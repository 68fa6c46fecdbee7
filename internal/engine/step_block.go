package engine

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Block manages a block of lines inside a file it does not own, between
//
//	# BEGIN <Marker> <Name>
//	# END <Marker> <Name>
//
// The rest of the file is never touched; an existing block is replaced in
// place, a missing one appended (the file is created when absent).
type Block struct {
	Path    string
	Name    string // tells blocks in the same file apart, e.g. "hosts"
	Content string // the lines between the markers
	Absent  bool   // remove the block (markers included) instead
	Marker  string // default "clusterctl"
	Comment string // comment leader, default "#"
	// Meta is enforced as for File; zero fields keep what an existing
	// file has (editing /etc/hosts must not reset its mode).
	Meta     remote.FileMeta
	Validate string
	Backup   bool
	Label    string // title override; default "block <Name> in <Path>"
}

func (b Block) Title() string {
	if b.Label != "" {
		return b.Label
	}
	return fmt.Sprintf("block %s in %s", b.Name, b.Path)
}

// Markers returns the begin and end marker lines (without newline).
func (b Block) Markers() (begin, end string) {
	marker, comment := b.Marker, b.Comment
	if marker == "" {
		marker = "clusterctl"
	}
	if comment == "" {
		comment = "#"
	}
	return fmt.Sprintf("%s BEGIN %s %s", comment, marker, b.Name), fmt.Sprintf("%s END %s %s", comment, marker, b.Name)
}

func (b Block) Probes(*Host) []string { return []string{statAndReadCmd(b.Path)} }

func (b Block) Check(ctx context.Context, h *Host) (*Change, error) {
	if b.Name == "" {
		return nil, fmt.Errorf("block in %s has no name", b.Path)
	}
	spec := fileSpec{path: b.Path, meta: b.Meta, validate: b.Validate}
	return spec.check(ctx, h, func(cur []byte, exists bool) ([]byte, error) {
		if b.Absent && !exists {
			return nil, errLeaveAlone // nothing to remove, and nothing to create
		}
		return b.Apply(cur)
	})
}

// Apply returns file with the block set (or removed when Absent). It is
// pure so that its edge cases are testable without a host.
func (b Block) Apply(file []byte) ([]byte, error) {
	begin, end := b.Markers()
	lines := splitLines(string(file))
	bi, ei := -1, -1
	for i, l := range lines {
		switch strings.TrimRight(l, " \t\r\n") {
		case begin:
			if bi >= 0 {
				return nil, fmt.Errorf("%s: %q appears twice", b.Path, begin)
			}
			bi = i
		case end:
			if ei >= 0 {
				return nil, fmt.Errorf("%s: %q appears twice", b.Path, end)
			}
			ei = i
		}
	}
	if (bi < 0) != (ei < 0) || ei < bi {
		return nil, fmt.Errorf("%s: block markers for %q are unbalanced; fix the file by hand", b.Path, b.Name)
	}
	var block []string
	if !b.Absent {
		block = append(block, begin+"\n")
		block = append(block, splitLines(ensureNewline(b.Content))...)
		block = append(block, end+"\n")
	}
	var out []string
	if bi >= 0 {
		out = append(out, lines[:bi]...)
		out = append(out, block...)
		out = append(out, lines[ei+1:]...)
	} else {
		if b.Absent {
			return file, nil
		}
		out = append(out, lines...)
		if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
			out[n-1] += "\n"
		}
		out = append(out, block...)
	}
	var buf bytes.Buffer
	for _, l := range out {
		buf.WriteString(l)
	}
	return buf.Bytes(), nil
}

func ensureNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

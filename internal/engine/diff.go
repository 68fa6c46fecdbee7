package engine

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around each change,
// as in `diff -u`.
const diffContext = 3

// maxEditDistance bounds Myers' search (its memory grows with the square of
// the number of edits). Beyond it the differing middle is shown as one
// block removed and one added: still a correct diff, just not a minimal one.
const maxEditDistance = 2000

// UnifiedDiff returns a unified diff from a to b in `diff -u` format
// (without timestamps), or "" when they are equal.
func UnifiedDiff(oldName, newName string, a, b []byte) string {
	d, _, _ := unifiedDiff(oldName, newName, a, b)
	return d
}

type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// edit is one line of the edit script; ai and bi are the positions in a and
// b before the edit is applied (so an insert's ai says where it goes).
type edit struct {
	kind   opKind
	ai, bi int
}

func unifiedDiff(oldName, newName string, a, b []byte) (text string, added, removed int) {
	al, bl := splitLines(string(a)), splitLines(string(b))
	edits := diffLines(al, bl)
	var sb strings.Builder
	for _, h := range hunks(edits) {
		if sb.Len() == 0 {
			fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldName, newName)
		}
		var na, nb int
		for _, e := range h {
			if e.kind != opInsert {
				na++
			}
			if e.kind != opDelete {
				nb++
			}
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(h[0].ai, na), hunkRange(h[0].bi, nb))
		for _, e := range h {
			line := ""
			switch e.kind {
			case opInsert:
				line = bl[e.bi]
				added++
			case opDelete:
				line = al[e.ai]
				removed++
			default:
				line = al[e.ai]
			}
			sb.WriteByte(byte(e.kind))
			sb.WriteString(line)
			if !strings.HasSuffix(line, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	return sb.String(), added, removed
}

// hunkRange formats "start,len" the way GNU diff does: 1-based start, the
// ",len" omitted when len is 1, and start pointing before the hunk when
// len is 0.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits s into lines that keep their "\n", so that a missing
// final newline is itself a difference.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// hunks groups the edit script into hunks with diffContext lines of context,
// merging changes that are close enough to share context.
func hunks(edits []edit) [][]edit {
	var out [][]edit
	i := 0
	for i < len(edits) {
		for i < len(edits) && edits[i].kind == opEqual {
			i++
		}
		if i == len(edits) {
			break
		}
		start := max(i-diffContext, 0)
		end := i // one past the last change of the hunk
		for j := i; j < len(edits); j++ {
			if edits[j].kind != opEqual {
				end = j + 1
			} else if j-end >= 2*diffContext {
				break
			}
		}
		stop := min(end+diffContext, len(edits))
		out = append(out, edits[start:stop])
		i = stop
	}
	return out
}

// diffLines returns a minimal edit script from a to b (Myers' O(ND)
// algorithm) after trimming the common prefix and suffix.
func diffLines(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []edit
	for i := 0; i < pre; i++ {
		out = append(out, edit{opEqual, i, i})
	}
	out = append(out, myers(a[pre:len(a)-suf], b[pre:len(b)-suf], pre)...)
	for i := 0; i < suf; i++ {
		out = append(out, edit{opEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return out
}

// myers diffs a and b, which start at line off of both original texts.
func myers(a, b []string, off int) []edit {
	n, m := len(a), len(b)
	limit := min(n+m, maxEditDistance)
	// v[k+limit+1] is the furthest x reached on diagonal k = x-y.
	v := make([]int, 2*limit+3)
	idx := func(k int) int { return k + limit + 1 }
	var trace [][]int // trace[d] is v as it was before round d
	found := -1
	for d := 0; d <= limit && found < 0; d++ {
		trace = append(trace, append([]int(nil), v[idx(-d):idx(d)+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[idx(k-1)] < v[idx(k+1)]) {
				x = v[idx(k+1)] // step down: insert
			} else {
				x = v[idx(k-1)] + 1 // step right: delete
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[idx(k)] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
	}
	if found < 0 { // too different: replace the whole middle
		var out []edit
		for i := range a {
			out = append(out, edit{opDelete, off + i, off})
		}
		for j := range b {
			out = append(out, edit{opInsert, off + n, off + j})
		}
		return out
	}
	// Walk back from (n, m), collecting edits in reverse.
	var rev []edit
	x, y := n, m
	for d := found; d >= 0; d-- {
		k := x - y
		var prevK int
		if d > 0 {
			prev := trace[d] // covers diagonals -d..d
			at := func(k int) int { return prev[k+d] }
			if k == -d || (k != d && at(k-1) < at(k+1)) {
				prevK = k + 1
			} else {
				prevK = k - 1
			}
			prevX := at(prevK)
			prevY := prevX - prevK
			for x > prevX && y > prevY {
				x, y = x-1, y-1
				rev = append(rev, edit{opEqual, off + x, off + y})
			}
			if x == prevX {
				y--
				rev = append(rev, edit{opInsert, off + x, off + y})
			} else {
				x--
				rev = append(rev, edit{opDelete, off + x, off + y})
			}
		} else {
			for x > 0 && y > 0 {
				x, y = x-1, y-1
				rev = append(rev, edit{opEqual, off + x, off + y})
			}
		}
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

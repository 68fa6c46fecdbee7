package engine

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiffSmallChange(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\n"
	new := "a\nb\nc\nd\nE\nf\ng\nh\ni\n"
	want := `--- a/x
+++ b/x
@@ -2,7 +2,8 @@
 b
 c
 d
-e
+E
 f
 g
 h
+i
`
	if got := UnifiedDiff("a/x", "b/x", []byte(old), []byte(new)); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestUnifiedDiffCases(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{"new file", "", "x\ny\n", "--- o\n+++ n\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"emptied", "x\n", "", "--- o\n+++ n\n@@ -1 +0,0 @@\n-x\n"},
		{"no final newline added", "x", "x\n", "--- o\n+++ n\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n"},
		{"insert at top", "b\nc\n", "a\nb\nc\n", "--- o\n+++ n\n@@ -1,2 +1,3 @@\n+a\n b\n c\n"},
		{
			"two hunks far apart",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
			"--- o\n+++ n\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n",
		},
		{
			"changes 7 lines apart get two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			"X\n2\n3\n4\n5\n6\n7\n8\nY\n",
			"--- o\n+++ n\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n@@ -6,4 +6,4 @@\n 6\n 7\n 8\n-9\n+Y\n",
		},
		{
			"changes 6 lines apart share one hunk",
			"1\n2\n3\n4\n5\n6\n7\n8\n",
			"X\n2\n3\n4\n5\n6\n7\nY\n",
			"--- o\n+++ n\n@@ -1,8 +1,8 @@\n-1\n+X\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+Y\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnifiedDiff("o", "n", []byte(tc.old), []byte(tc.new)); got != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// applyUnified applies a diff produced by UnifiedDiff to old, trusting only
// the hunk headers and line prefixes: if the diff is wrong, so is the result.
func applyUnified(t *testing.T, old, diff string) string {
	t.Helper()
	src := splitLines(old)
	var out []string
	pos := 0
	lines := strings.SplitAfter(diff, "\n")
	for i := 2; i < len(lines) && lines[i] != ""; i++ {
		l := lines[i]
		if strings.HasPrefix(l, "@@") {
			var a string
			fmt.Sscanf(l, "@@ -%s", &a)
			startS, lenS, found := strings.Cut(a, ",")
			start, _ := strconv.Atoi(startS)
			n := 1
			if found {
				n, _ = strconv.Atoi(lenS)
			}
			if n > 0 {
				start-- // 1-based, except for empty ranges
			}
			out = append(out, src[pos:start]...)
			pos = start
			continue
		}
		body := l[1:]
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], `\ No newline`) {
			body = strings.TrimSuffix(body, "\n")
			i++
		}
		switch l[0] {
		case ' ':
			if src[pos] != body {
				t.Fatalf("context mismatch at %d: %q vs %q", pos, src[pos], body)
			}
			out = append(out, body)
			pos++
		case '-':
			if src[pos] != body {
				t.Fatalf("delete mismatch at %d: %q vs %q", pos, src[pos], body)
			}
			pos++
		case '+':
			out = append(out, body)
		default:
			t.Fatalf("bad diff line %q", l)
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, "")
}

// lcs is the textbook O(nm) longest common subsequence length: a minimal
// diff deletes and inserts exactly the lines outside it.
func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestUnifiedDiffRandomRoundTripAndMinimal(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	gen := func() string {
		n := rng.Intn(25)
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteString(string(rune('a' + rng.Intn(4))))
			if i < n-1 || rng.Intn(4) > 0 {
				sb.WriteString("\n")
			}
		}
		return sb.String()
	}
	for i := 0; i < 3000; i++ {
		a, b := gen(), gen()
		d, added, removed := unifiedDiff("o", "n", []byte(a), []byte(b))
		if (d == "") != (a == b) {
			t.Fatalf("a=%q b=%q: empty diff iff equal, got %q", a, b, d)
		}
		if got := applyUnified(t, a, d); got != b {
			t.Fatalf("a=%q b=%q diff:\n%s\napplied to %q", a, b, d, got)
		}
		al, bl := splitLines(a), splitLines(b)
		common := lcs(al, bl)
		if removed != len(al)-common || added != len(bl)-common {
			t.Fatalf("a=%q b=%q: -%d +%d is not minimal (lcs %d)", a, b, removed, added, common)
		}
	}
}

func TestUnifiedDiffBeyondEditLimitIsStillCorrect(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < maxEditDistance+50; i++ {
		fmt.Fprintf(&a, "old %d\n", i)
		fmt.Fprintf(&b, "new %d\n", i)
	}
	d := UnifiedDiff("o", "n", []byte(a.String()), []byte(b.String()))
	if got := applyUnified(t, a.String(), d); got != b.String() {
		t.Fatal("fallback diff does not reproduce the new text")
	}
}

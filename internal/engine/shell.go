package engine

import (
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// Quote returns s as a single POSIX sh word (remote.ShellWord: plain words
// bare, everything else single-quoted).
func Quote(s string) string { return remote.ShellWord(s) }

func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

package verify

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// shellQuote quotes s as one POSIX sh word.
func shellQuote(s string) string { return remote.ShellQuote(s) }

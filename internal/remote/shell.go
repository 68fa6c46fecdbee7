package remote

import "strings"

// ShellQuote returns s as one POSIX sh word, always single-quoted (each
// embedded quote closes the quoting, adds an escaped quote and reopens it). The one
// implementation of shell quoting: ShellWord, engine.Quote, the transport's
// sudo wrapper, verify's commands and the rendered profile scripts use it.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellWord is ShellQuote, but leaves plain words (package names, paths
// without spaces) bare, so generated commands and files stay readable.
func ShellWord(s string) string {
	if s == "" {
		return "''"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:@%+=,", r)) {
			return ShellQuote(s)
		}
	}
	return s
}

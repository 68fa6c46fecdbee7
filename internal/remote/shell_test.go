package remote

import (
	"os/exec"
	"testing"
)

func TestShellQuote(t *testing.T) {
	cases := map[string]string{
		"":         "''",
		"plain":    "'plain'",
		"it's":     `'it'\''s'`,
		`a "b" $c`: `'a "b" $c'`,
	}
	for in, want := range cases {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

// The quoted word must reach the shell as exactly the original string.
func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "it's", `'''`, "a b\tc\nd", `$(touch /x) ; rm -rf "$HOME"`, "back\\slash", "ünï"} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("round trip of %q = %q, %v", s, out, err)
		}
	}
}

// ShellWord leaves plain words bare and quotes the rest as ShellQuote does.
func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{"": "''", "/usr/local/jdk": "/usr/local/jdk", "a b": "'a b'", "$(x)": "'$(x)'", "k=v,w": "k=v,w"} {
		if got := ShellWord(in); got != want {
			t.Errorf("ShellWord(%q) = %q, want %q", in, got, want)
		}
	}
}

package engine

import (
	"context"
	"testing"
)

func TestQuoteSurvivesTheShell(t *testing.T) {
	c := newLocalConn("local")
	for _, s := range []string{"", "plain-word_1.2", "two words", "it's", `"$HOME" \ ; rm -rf /`, "a\nb", "*"} {
		res, err := c.Run(context.Background(), "printf '%s' "+Quote(s))
		if err != nil || res.Stdout != s {
			t.Errorf("Quote(%q): shell printed %q (%v)", s, res.Stdout, err)
		}
	}
	if Quote("nginx") != "nginx" || Quote("/etc/nginx/nginx.conf") != "/etc/nginx/nginx.conf" {
		t.Error("plain words should stay bare")
	}
}

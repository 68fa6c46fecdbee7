package phase

import "testing"

// Colour follows --color, then NO_COLOR and TERM=dumb, then the terminal.
func TestColorRule(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		mode     string
		terminal bool
		env      map[string]string
		want     bool
	}{
		{"auto", true, nil, true},
		{"auto", false, nil, false},
		{"auto", true, map[string]string{"NO_COLOR": "1"}, false},
		{"auto", true, map[string]string{"TERM": "dumb"}, false},
		{"auto", true, map[string]string{"TERM": "xterm-256color"}, true},
		{"always", false, map[string]string{"NO_COLOR": "1"}, true},
		{"never", true, nil, false},
	} {
		if got := colorRule(c.mode, c.terminal, env(c.env)); got != c.want {
			t.Errorf("--color %s, terminal %v, env %v: %v, want %v", c.mode, c.terminal, c.env, got, c.want)
		}
	}
}

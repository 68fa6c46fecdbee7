package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every command, however deep, gets a man page that carries its own flags
// (with the inherited global ones) and no date, so a rebuild of the same
// binary writes the same pages.
func TestManPagesCoverEveryCommand(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := run("gen-man", dir); code != ExitOK {
		t.Fatalf("gen-man: exit %d\n%s%s", code, out, errOut)
	}
	root, _ := newRootCommand(io.Discard, io.Discard)
	var walk func(c *cobra.Command)
	pages := 0
	walk = func(c *cobra.Command) {
		if c.Hidden || !c.IsAvailableCommand() && c != root {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: no man page: %v", c.CommandPath(), err)
			return
		}
		pages++
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(string(b), "--"+f.Name) {
				t.Errorf("%s: the page lacks --%s", name, f.Name)
			}
		})
		if c != root && !strings.Contains(string(b), "--inventory") {
			t.Errorf("%s: the page lacks the global --inventory", name)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if pages < 15 {
		t.Errorf("%d man pages, want one per command", pages)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "clusterctl.1")); strings.Contains(string(b), "Auto generated") {
		t.Error("the pages carry a generation date: the same binary would write different pages")
	}
}

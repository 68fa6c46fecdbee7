package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCommand is the hidden command `make man` runs: one man page per
// command, generated from the commands themselves (their help, flags and
// examples), so the pages cannot drift from the binary.
func newManCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "Write man pages for every command into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root.DisableAutoGenTag = true // no date: the same binary writes the same pages
			h := &doc.GenManHeader{Title: "CLUSTERCTL", Section: "1", Source: "clusterctl " + Version, Manual: "clusterctl manual"}
			if err := doc.GenManTree(root, h, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "man pages in %s (man -l %s/clusterctl.1)\n", args[0], args[0])
			return nil
		},
	}
}

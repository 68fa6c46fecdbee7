package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/output"
	"github.com/clusterctl/clusterctl/playbooks"
)

func newApplyCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "apply",
		Short: "Converge every host in the inventory (idempotent)",
		Long: `apply connects to every host and converges it, play by play: base (hostname,
timezone, time sync, /etc/hosts), then Java, Tomcat, memcached, MSM and nginx.
Each step first reads the host's state and changes only what differs; a second
run reports no changes. A failing host stops its own play only.`,
		Example: `  clusterctl apply --dry-run --diff   # show what would change, change nothing
  clusterctl apply --hosts t58        # only t58 (its peers still appear in its configs)
  clusterctl apply -o json | jq .     # NDJSON events`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlays(cmd, g, (*playbooks.Cluster).Apply)
		},
	}
}

// loadInventory loads and validates the inventory and applies --hosts.
// Every error here is a usage error: no host has been contacted yet.
func loadInventory(g *globalOptions) (*inventory.Inventory, error) {
	inv, err := inventory.Load(g.inventory)
	if err != nil {
		return nil, usageError(err)
	}
	if len(g.hosts) > 0 {
		if inv, err = inv.Limit(g.hosts); err != nil {
			return nil, usageError(fmt.Errorf("--hosts: %w", err))
		}
	}
	return inv, nil
}

// runPlays is the whole of apply (and of the other converging commands):
// inventory -> plays -> connections -> engine -> output -> exit code.
func runPlays(cmd *cobra.Command, g *globalOptions, plays func(*playbooks.Cluster) []engine.Play) error {
	inv, err := loadInventory(g)
	if err != nil {
		return err
	}
	cluster, err := playbooks.NewCluster(inv)
	if err != nil {
		return usageError(fmt.Errorf("%s: %w", inv.File(), err))
	}
	out := cmd.OutOrStdout()
	if g.dryRun && g.output == "text" {
		if err := printEffectiveInventory(out, inv); err != nil {
			return err
		}
	}

	ctx, stop := signalContext()
	defer stop()
	dialedHosts := dialAll(ctx, inv, g)
	defer closeAll(dialedHosts)
	hosts := engineHosts(dialedHosts)

	recap := engine.Run(ctx, hosts, plays(cluster), engine.Options{
		DryRun: g.dryRun, Diff: g.diff, Parallel: g.parallel,
	}, newSink(out, g))
	return recapError(recap)
}

func newSink(w io.Writer, g *globalOptions) engine.EventSink {
	if g.output == "json" {
		return output.NewJSON(w)
	}
	return output.NewText(w, g.verbose, isTerminal(w))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printEffectiveInventory shows the inventory with every default filled
// in, so a dry run also reviews what the defaults resolved to.
func printEffectiveInventory(w io.Writer, inv *inventory.Inventory) error {
	y, err := inv.EffectiveYAML()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", y) // EffectiveYAML starts with its own header comment
	return nil
}

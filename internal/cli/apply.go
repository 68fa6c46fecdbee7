package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/output"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/rollout"
	"github.com/clusterctl/clusterctl/playbooks"
)

func newApplyCommand(g *globalOptions) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "apply",
		Short: "Converge every host in the inventory (idempotent)",
		Long: `apply connects to every host and converges it, play by play: base (hostname,
timezone, time sync, /etc/hosts), then Java, Tomcat, memcached, MSM and nginx.
Each step first reads the host's state and changes only what differs; a second
run reports no changes. A failing host stops its own play only.

Config changes land on every host at once; the Tomcat restarts they need then
roll across the cluster (see clusterctl restart --help), so a live cluster
drops no request and loses no session.`,
		Example: `  clusterctl apply --dry-run --diff   # show what would change, change nothing
  clusterctl apply --hosts t58        # only t58 (its peers still appear in its configs)
  clusterctl apply -o json | jq .     # NDJSON events`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlays(cmd, g, (*playbooks.Cluster).Apply, f)
		},
	}
	c.Flags().BoolVar(&f.disruptive, "disruptive", false, "make a change that no rollout keeps unnoticed (a port, msm.storage_key_prefix on a live cluster): the rollout then restarts without waiting for the cluster to be whole between hosts")
	f.register(c)
	return c
}

// runFlags are the flags of the commands that converge and roll.
type runFlags struct {
	load, disruptive bool
	// force rolls an app version the app gate finds unable to read the
	// running version's sessions.
	force bool
}

func (f *runFlags) register(c *cobra.Command) {
	c.Flags().BoolVar(&f.load, "load", false, "run 20 client sessions through the proxies during the run and print failed requests, lost sessions and stale answers")
	c.Flags().BoolVar(&f.force, "force", false, "roll an app version even when the session check finds it cannot read the running version's sessions (it says how many it expects to break)")
}

// loadInventory loads and validates the inventory and applies --hosts.
// Every error here is a usage error: no host has been contacted yet.
func loadInventory(g *globalOptions) (*inventory.Inventory, error) {
	inv, err := inventory.Load(g.inventory)
	if err != nil {
		return nil, usageError(err)
	}
	for _, n := range inv.Notices {
		fmt.Fprintln(g.stderr, "notice:", n)
	}
	// The local files every command needs, before any host is contacted.
	if err := inv.CheckLocal(false); err != nil {
		return nil, usageError(err)
	}
	if len(g.hosts) > 0 {
		if inv, err = inv.Limit(g.hosts); err != nil {
			return nil, usageError(err) // Limit names --hosts itself
		}
	}
	if g.reach, err = resolveSSH(inv, g); err != nil {
		return nil, usageError(err)
	}
	return inv, nil
}

// loadCluster is loadInventory plus the cluster model every play reads.
func loadCluster(g *globalOptions) (*inventory.Inventory, *playbooks.Cluster, error) {
	inv, err := loadInventory(g)
	if err != nil {
		return nil, nil, err
	}
	cluster, err := playbooks.NewCluster(inv)
	if err != nil {
		return nil, nil, usageError(fmt.Errorf("%s: %w", inv.File(), err))
	}
	return inv, cluster, nil
}

// loadForRun is loadCluster plus the preflight's options: all a changing
// command reads before it contacts any host.
func loadForRun(g *globalOptions) (*inventory.Inventory, *playbooks.Cluster, preflight.Options, error) {
	inv, cluster, err := loadCluster(g)
	if err != nil {
		return nil, nil, preflight.Options{}, err
	}
	popts, err := preflightOptions(g)
	return inv, cluster, popts, err
}

// runPlays is the whole of apply (and of the other converging commands):
// inventory -> plays -> connections -> engine -> output -> exit code.
func runPlays(cmd *cobra.Command, g *globalOptions, plays func(*playbooks.Cluster) []engine.Play, f runFlags) (retErr error) {
	inv, cluster, popts, err := loadForRun(g)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if inv.MSM.SessionBackupAsync {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: msm.session_backup_async is true: a request's session change may still be on its way to memcached when a rollout or a failover moves the session, which then answers with the change before (measured: up to 3 stale answers in ~3,400 requests during a rollout); false, the default, keeps it at 0")
	}
	if n := cluster.AppsNotice(); n != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "notice:", n)
	}
	if g.dryRun && g.output == "text" {
		if err := printEffectiveInventory(out, inv); err != nil {
			return err
		}
		printSSHSettings(out, inv, g)
	}
	if g.dryRun && g.output == "json" {
		writeSSHSettings(out, inv, g)
	}

	ints := newInterrupts(cmd.ErrOrStderr())
	defer ints.stop()
	ctx := ints.soft
	if err := inv.CheckLocal(true); err != nil {
		return usageError(err)
	}
	if err := cluster.CheckArtifacts(ctx); err != nil {
		return usageError(fmt.Errorf("%s: %w (no host was contacted)", inv.File(), err))
	}
	l, err := startLoad(ints.hard, inv, g, f.load)
	if err != nil {
		return err
	}
	defer stopLoad(out, g, l)
	dialedHosts := dialAll(ctx, inv, g)
	defer closeAll(dialedHosts)
	hosts := engineHosts(dialedHosts)
	if err := gate(ctx, cmd, g, popts, hosts, cluster.PreflightNeeds); err != nil {
		return err
	}
	changes, err := cluster.DisruptiveChanges(ctx, hosts)
	if err != nil {
		return hostsFailed(err)
	}
	if len(changes) > 0 && !f.disruptive {
		return usageError(fmt.Errorf("these changes cannot roll across a live cluster unnoticed, and nothing was changed:\n  %s\nrun again with --disruptive to make them anyway (in a quiet hour), or keep the old values",
			strings.Join(changes, "\n  ")))
	}
	// The proxies and Tomcats outside --hosts are dialled and locked
	// before anything changes: a rollout drains at every proxy and gates
	// on every Tomcat, so a run limited to one host still works on them.
	r := &rolloutRun{cmd: cmd, g: g, inv: inv, cluster: cluster, hosts: hosts, disruptive: f.disruptive, force: f.force}
	r.withPeers(ctx)
	defer r.close()
	lock, err := lockHosts(ctx, cmd, g, r.lockSet(), ints.halt)
	if err != nil {
		return err
	}
	defer func() { retErr = errors.Join(retErr, lock.Release()) }()
	r.lock = lock

	if err := r.refuseBlind(ctx, hosts, plays(cluster)); err != nil {
		return err
	}
	sink := newSink(out, g)
	recap := engine.Run(ctx, hosts, plays(cluster), engine.Options{
		DryRun: g.dryRun, Diff: g.diff, Parallel: g.parallel,
	}, sink)
	if err := recapError(recap); err != nil {
		// A failed host may hold half a config: its restarts stay pending
		// for the next run, and so do all of them while a proxy failed.
		return err
	}
	if err := r.roll(ints.hard, ints.soft.Done(), rollout.PlanOf(recap), sink); err != nil {
		return err
	}
	// Only a finished rollout makes the new settings live, and frees what
	// the old ones used.
	opts := engine.Options{DryRun: g.dryRun, Diff: g.diff}
	errs := make([]error, len(hosts))
	parallel.Each(len(hosts), g.parallel, func(i int) {
		for _, s := range []engine.Step{cluster.LiveSettingsStep(), cluster.StaleJavaStep(), cluster.StaleFirewallStep()} {
			if _, err := engine.RunStep(ctx, hosts[i], "after rollout", s, opts, sink); err != nil {
				errs[i] = fmt.Errorf("%s: %w", hosts[i].Name(), err)
				return
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return hostsFailed(err)
	}
	return nil
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

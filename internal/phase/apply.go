package phase

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/output"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/rollout"
	"github.com/clusterctl/clusterctl/playbooks"
)

// RunFlags are the flags of the commands that converge and roll.
type RunFlags struct {
	Load, Disruptive bool
	// Force rolls an app version the app gate finds unable to read the
	// running version's sessions.
	Force bool
}

// loadInventory loads and validates the inventory and applies --hosts.
// Every error here is a usage error: no host has been contacted yet.
func loadInventory(g *Options) (*inventory.Inventory, error) {
	inv, err := inventory.Load(g.Inventory)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, UsageError(fmt.Errorf("%w\n  write one for your hosts: clusterctl init --proxy ADDRESS --tomcat ADDRESS --tomcat ADDRESS\n  or name another file: clusterctl -i FILE ...\n  or try the local lab: clusterctl lab up, then clusterctl -i lab/inventory.yaml apply", err))
	}
	if err != nil {
		return nil, UsageError(err)
	}
	// The local files every command needs, before any host is contacted.
	if err := inv.CheckLocal(false); err != nil {
		return nil, UsageError(err)
	}
	for _, n := range inv.Notices {
		fmt.Fprintln(g.Stderr, "notice:", n)
	}
	if len(g.Hosts) > 0 {
		if inv, err = inv.Limit(g.Hosts); err != nil {
			return nil, UsageError(err) // Limit names --hosts itself
		}
	}
	if g.reach, err = resolveSSH(inv, g); err != nil {
		return nil, UsageError(err)
	}
	return inv, nil
}

// LoadCluster is loadInventory plus the cluster model every play reads.
func LoadCluster(g *Options) (*inventory.Inventory, *playbooks.Cluster, error) {
	inv, err := loadInventory(g)
	if err != nil {
		return nil, nil, err
	}
	cluster, err := playbooks.NewCluster(inv)
	if err != nil {
		return nil, nil, UsageError(fmt.Errorf("%s: %w", inv.File(), err))
	}
	return inv, cluster, nil
}

// loadForRun is loadCluster plus the preflight's options: all a changing
// command reads before it contacts any host.
func loadForRun(g *Options) (*inventory.Inventory, *playbooks.Cluster, preflight.Options, error) {
	inv, cluster, err := LoadCluster(g)
	if err != nil {
		return nil, nil, preflight.Options{}, err
	}
	popts, err := preflightOptions(g)
	return inv, cluster, popts, err
}

// Apply converges the hosts with plays (the cluster's, or a rollback's)
// and rolls the restarts the changes need, in this order. Every phase
// before "converge" changes nothing on any host; one that fails ends the
// command there.
func Apply(g *Options, plays func(*playbooks.Cluster) []engine.Play, f RunFlags) error {
	c := &cmdRun{g: g, f: f}
	return c.phases(
		phase{"load the inventory and the cluster", c.load},
		phase{"say what the run will use", c.notices},
		phase{"check the local files and artifacts", c.checkArtifacts},
		phase{"start the load (--load)", c.startLoad},
		phase{"connect to every host", c.connect},
		phase{"preflight", c.preflight},
		phase{"refuse changes no rollout can hide", c.refuseDisruptive},
		phase{"lock every host the run touches", c.lock},
		phase{"read every host's state in one batch", func() error {
			c.r.askMemcached(c.ctx())
			c.prefetch(plays(c.cluster), c.engineOptions())
			return nil
		}},
		phase{"refuse a memcached restart without a hand-over", func() error { return c.r.refuseBlind(c.ctx(), c.hosts, plays(c.cluster)) }},
		phase{"converge", func() error { return c.converge(plays(c.cluster)) }},
		phase{"roll the restarts", func() error { return c.roll(rollout.PlanOf(c.recap)) }},
		phase{"record the live settings, free what the old ones used", c.record},
	)
}

// Rollback is Apply with the rollback play of app: every Tomcat wants the
// version its last deploy replaced. The app's name is checked before any
// host is contacted.
func Rollback(g *Options, app string, f RunFlags) error {
	inv, cluster, err := LoadCluster(g)
	if err != nil {
		return err
	}
	if _, err := cluster.RollbackPlay(app); err != nil {
		return UsageError(fmt.Errorf("%s: %w", inv.File(), err))
	}
	return Apply(g, func(c *playbooks.Cluster) []engine.Play {
		p, _ := c.RollbackPlay(app) // checked above, on the same inventory
		return []engine.Play{p}
	}, f)
}

// Restart rolls a restart of every selected Tomcat (what: "tomcat").
func Restart(g *Options, what string, f RunFlags) error {
	if what != "tomcat" {
		return UsageError(fmt.Errorf("restart %q: only tomcat can be restarted on its own (memcached restarts with its keys handed over, by apply, when its config changes)", what))
	}
	c := &cmdRun{g: g, f: f}
	return c.phases(
		phase{"load the inventory and the cluster", c.load},
		phase{"start the load (--load)", c.startLoad},
		phase{"connect to every host", c.connect},
		phase{"every host reachable", c.allReachable},
		phase{"preflight", c.preflight},
		phase{"lock every host the run touches", c.lock},
		phase{"read every host's state in one batch", func() error { c.prefetch(nil, c.engineOptions()); return nil }},
		phase{"roll the restarts", c.rollTomcats},
	)
}

// converge runs the plays on every host.
func (c *cmdRun) converge(plays []engine.Play) error {
	c.recap = engine.Run(c.ctx(), c.hosts, plays, c.engineOptions(), c.sink())
	// A failed host may hold half a config: its restarts stay pending for
	// the next run, and so do all of them while a proxy failed.
	return recapError(c.recap)
}

func (c *cmdRun) engineOptions() engine.Options {
	return engine.Options{DryRun: c.g.DryRun, Diff: c.g.Diff, Parallel: c.g.Parallel}
}

// prefetch reads, on every host at once, what the converge's, the
// rollout's and the record's checks will read: one round trip per host
// instead of one per check. It runs after the lock, so no other run can
// change what it read; whatever changes a host drops the rest.
func (c *cmdRun) prefetch(plays []engine.Play, opts engine.Options) {
	parallel.Each(len(c.hosts), c.g.Parallel, func(i int) {
		h := c.hosts[i]
		cmds := engine.PlayProbes(h, plays, opts)
		cmds = append(cmds, rollout.Probes(c.cluster, h, opts)...)
		for _, s := range c.recordSteps() {
			cmds = append(cmds, engine.StepProbes(s, h)...)
		}
		engine.Prefetch(c.ctx(), h, cmds)
	})
}

func (c *cmdRun) notices() error {
	g, inv, out := c.g, c.inv, c.g.Stdout
	if inv.MSM.SessionBackupAsync {
		fmt.Fprintln(g.Stderr, "warning: msm.session_backup_async is true: a request's session change may still be on its way to memcached when a rollout or a failover moves the session, which then answers with the change before (measured: up to 3 stale answers in ~3,400 requests during a rollout); false, the default, keeps it at 0")
	}
	if n := c.cluster.AppsNotice(); n != "" {
		fmt.Fprintln(g.Stderr, "notice:", n)
	}
	if g.DryRun && g.Output == "text" {
		if err := printEffectiveInventory(out, inv); err != nil {
			return err
		}
		printSSHSettings(out, inv, g)
	}
	if g.DryRun && g.Output == "json" {
		writeSSHSettings(out, inv, g)
	}
	return nil
}

func (c *cmdRun) checkArtifacts() error {
	if err := c.inv.CheckLocal(true); err != nil {
		return UsageError(err)
	}
	if err := c.cluster.CheckArtifacts(c.ctx()); err != nil {
		return UsageError(fmt.Errorf("%s: %w (no host was contacted)", c.inv.File(), err))
	}
	return nil
}

func (c *cmdRun) refuseDisruptive() error {
	changes, err := c.cluster.DisruptiveChanges(c.ctx(), c.hosts)
	if err != nil {
		return HostsFailed(err)
	}
	if len(changes) > 0 && !c.f.Disruptive {
		return Refused(fmt.Errorf("these changes cannot roll across a live cluster unnoticed, and nothing was changed:\n  %s\nrun again with --disruptive to make them anyway (in a quiet hour), or keep the old values",
			strings.Join(changes, "\n  ")))
	}
	return nil
}

// roll rolls plan across the cluster.
func (c *cmdRun) roll(plan rollout.Plan) error {
	return c.r.roll(c.ints.hard, c.ints.soft.Done(), plan, c.sink())
}

// rollTomcats is restart's plan: every selected Tomcat.
func (c *cmdRun) rollTomcats() error {
	restart := map[string][]engine.Deferred{}
	for _, h := range c.inv.Hosts {
		if h.Has(inventory.RoleTomcat) {
			restart[h.Name] = nil
		}
	}
	if len(restart) == 0 {
		return UsageError(errors.New("no Tomcat host among the selected hosts"))
	}
	return c.roll(rollout.Plan{Tomcat: restart})
}

// record runs once the rollout is done: only a finished rollout makes the
// new settings live, and frees what the old ones used. It runs on the hard
// context: a first signal that came while the last host's turn finished
// leaves nothing to stop, and the record must follow the finished rollout
// (without it the next run would take the old settings for the live ones).
// recordSteps run on every host once the rollout is done.
func (c *cmdRun) recordSteps() []engine.Step {
	return []engine.Step{c.cluster.LiveSettingsStep(), c.cluster.StaleJavaStep(), c.cluster.StaleFirewallStep()}
}

func (c *cmdRun) record() error {
	g, hosts, ctx := c.g, c.hosts, c.ints.hard
	opts := engine.Options{DryRun: g.DryRun, Diff: g.Diff}
	errs := make([]error, len(hosts))
	parallel.Each(len(hosts), g.Parallel, func(i int) {
		for _, s := range c.recordSteps() {
			if _, err := engine.RunStep(ctx, hosts[i], "after rollout", s, opts, c.sink()); err != nil {
				errs[i] = fmt.Errorf("%s: %w", hosts[i].Name(), err)
				return
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return HostsFailed(err)
	}
	return nil
}

func newSink(w io.Writer, g *Options) engine.EventSink {
	if g.Output == "json" {
		return output.NewJSON(w)
	}
	return output.NewText(w, g.Verbose, colorFor(w, g), isTerminal(w))
}

// colorFor says whether text output to w is coloured (colorRule).
func colorFor(w io.Writer, g *Options) bool { return colorRule(g.Color, isTerminal(w), os.Getenv) }

// isTerminal: w is a terminal (a live progress line can be rewritten there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
}

// colorRule: --color always or never; else (auto) only on a terminal,
// and not when NO_COLOR is set to anything (no-color.org) or TERM is dumb.
func colorRule(mode string, terminal bool, env func(string) string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return terminal && env("NO_COLOR") == "" && env("TERM") != "dumb"
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

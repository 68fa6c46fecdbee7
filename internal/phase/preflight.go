package phase

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/playbooks"
)

// Preflight runs the preflight alone: every check, changing nothing.
func Preflight(g *Options) error {
	_, cluster, c, err := connectCluster(g)
	if err != nil {
		return err
	}
	defer c.close()
	rep := preflight.Run(c.ctx, c.hosts, cluster.PreflightNeeds, c.preflight)
	printPreflight(g, rep, true)
	if err := rep.Err(); err != nil {
		return HostsFailed(err)
	}
	return nil
}

// preflightOptions reads --skip-preflight and the environment; a bad
// value is a usage error, before any host is contacted.
func preflightOptions(g *Options) (preflight.Options, error) {
	skip, err := preflight.ValidateSkip(g.SkipPreflight)
	if err != nil {
		return preflight.Options{}, UsageError(err)
	}
	o := preflight.Options{Skip: skip, Parallel: g.Parallel}
	if v := os.Getenv("CLUSTERCTL_PREFLIGHT_LOCK_WAIT"); v != "" {
		if o.LockWait, err = time.ParseDuration(v); err != nil || o.LockWait <= 0 {
			return o, UsageError(fmt.Errorf("CLUSTERCTL_PREFLIGHT_LOCK_WAIT=%q: want a duration such as 30s", v))
		}
	}
	if v := os.Getenv("CLUSTERCTL_PREFLIGHT_MIN_FREE_MB"); v != "" {
		if o.MinFreeMB, err = strconv.ParseInt(v, 10, 64); err != nil || o.MinFreeMB <= 0 {
			return o, UsageError(fmt.Errorf("CLUSTERCTL_PREFLIGHT_MIN_FREE_MB=%q: want a whole number of MiB above 0", v))
		}
	}
	return o, nil
}

// connected is a command's run on every host of its inventory: the
// preflight options (checked before any host is contacted), the
// signals' contexts (ctx is the soft one: the run stops between steps),
// and the hosts dialled.
type connected struct {
	ctx       context.Context
	ints      *interrupts
	preflight preflight.Options
	dialed    []dialed
	hosts     []*engine.Host
}

// connectCluster is LoadCluster, then connect: a read-only command's start.
func connectCluster(g *Options) (*inventory.Inventory, *playbooks.Cluster, *connected, error) {
	inv, cluster, err := LoadCluster(g)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := connect(g, inv)
	return inv, cluster, c, err
}

func connect(g *Options, inv *inventory.Inventory) (*connected, error) {
	popts, err := preflightOptions(g)
	if err != nil {
		return nil, err
	}
	ints := newInterrupts(g.Stderr)
	ds := dialAll(ints.soft, inv, g)
	return &connected{ctx: ints.soft, ints: ints, preflight: popts, dialed: ds, hosts: engineHosts(ds)}, nil
}

func (c *connected) close() {
	closeAll(c.dialed)
	c.ints.stop()
}

// gate runs the preflight before a command changes anything; a failure
// prints the table and ends the command (exit 1) with every host as it was.
func gate(ctx context.Context, g *Options, opts preflight.Options, hosts []*engine.Host, needs preflight.NeedsFunc) error {
	rep := preflight.Run(ctx, hosts, needs, opts)
	printPreflight(g, rep, g.Verbose)
	if err := rep.Err(); err != nil {
		return HostsFailed(err)
	}
	return nil
}

// printPreflight writes the results: in text, the failures as a table (all
// results too when all is set); in JSON, one event per result.
func printPreflight(g *Options, rep preflight.Report, all bool) {
	w := g.Stdout
	if g.Output == "json" {
		for _, r := range rep.Results {
			writeEvent(w, preflightEvent{Type: "preflight", Host: r.Host, Check: r.Check, Status: r.Status, Found: r.Found, Fix: r.Fix})
		}
		return
	}
	if all {
		for _, r := range rep.Results {
			fmt.Fprintf(w, "%-8s %-13s %-7s %s\n", r.Host, r.Check, r.Status, r.Found)
		}
	}
	rep.WriteTable(w)
	if all || len(rep.Failed()) == 0 && g.Verbose {
		fmt.Fprintf(w, "preflight: %d checks, %d failed, in %s\n", len(rep.Results), len(rep.Failed()), rep.Elapsed.Round(time.Millisecond))
	}
}

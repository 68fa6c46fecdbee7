package phase

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/playbooks"
)

// phase is one named part of a command; a command is a list of them.
type phase struct {
	name string
	run  func() error
}

// cmdRun is what the phases of one command share, filled in as they run.
type cmdRun struct {
	g *Options
	f RunFlags

	inv     *inventory.Inventory
	cluster *playbooks.Cluster
	popts   preflight.Options
	ints    *interrupts
	dialed  []dialed
	hosts   []*engine.Host
	r       *rolloutRun
	recap   engine.Recap
	events  engine.EventSink

	undo []func() error // run in reverse when the command ends
}

// phases runs ps in order until one fails (-v names each as it starts), then what they left to undo
// (connections, the lock, the load's report), in reverse, whatever the
// outcome. A failure names nothing more: each phase's error says what
// happened and what to do.
func (c *cmdRun) phases(ps ...phase) (err error) {
	defer func() {
		for i := len(c.undo) - 1; i >= 0; i-- {
			err = errors.Join(err, c.undo[i]())
		}
	}()
	verbose := c.g.Verbose && c.g.Output == "text"
	for _, p := range ps {
		if verbose {
			fmt.Fprintf(c.g.Stderr, "phase: %s\n", p.name)
		}
		start := time.Now()
		err := p.run()
		if verbose {
			fmt.Fprintf(c.g.Stderr, "phase: %s: %s\n", p.name, time.Since(start).Round(time.Millisecond))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *cmdRun) atEnd(f func() error) { c.undo = append(c.undo, f) }

// ctx is the run's soft context: a first signal ends it, and the
// rollout stops at its next safe point.
func (c *cmdRun) ctx() context.Context { return c.ints.soft }

func (c *cmdRun) sink() engine.EventSink {
	if c.events == nil {
		c.events = newSink(c.g.Stdout, c.g)
	}
	return c.events
}

// load reads everything the command needs before it contacts any host,
// and from then on takes the signals (interrupts).
func (c *cmdRun) load() error {
	var err error
	if c.inv, c.cluster, c.popts, err = loadForRun(c.g); err != nil {
		return err
	}
	c.takeSignals()
	return nil
}

// loadInventory is load for a command that needs no cluster model.
func (c *cmdRun) loadInventory() error {
	var err error
	if c.inv, err = loadInventory(c.g); err != nil {
		return err
	}
	if c.popts, err = preflightOptions(c.g); err != nil {
		return err
	}
	c.takeSignals()
	return nil
}

func (c *cmdRun) takeSignals() {
	c.ints = newInterrupts(c.g.Stderr)
	c.atEnd(func() error { c.ints.stop(); return nil })
}

func (c *cmdRun) startLoad() error {
	l, err := startLoad(c.ints.hard, c.inv, c.g, c.f.Load)
	if err != nil {
		return err
	}
	c.atEnd(func() error { stopLoad(c.g.Stdout, c.g, l); return nil })
	return nil
}

// connect dials every selected host; an unreachable one is the
// preflight's to report.
func (c *cmdRun) connect() error {
	c.dialed = dialAll(c.ctx(), c.inv, c.g)
	c.atEnd(func() error { reportSessions(c.g, c.dialed); closeAll(c.dialed); return nil })
	c.hosts = engineHosts(c.dialed)
	c.r = &rolloutRun{g: c.g, inv: c.inv, cluster: c.cluster, hosts: c.hosts, disruptive: c.f.Disruptive, force: c.f.Force}
	return nil
}

// allReachable: a rollout on its own needs every host it was given.
func (c *cmdRun) allReachable() error {
	for _, d := range c.dialed {
		if d.err != nil {
			return HostsFailed(fmt.Errorf("%s: %w", d.host.Name, d.err))
		}
	}
	return nil
}

func (c *cmdRun) preflight() error {
	return gate(c.ctx(), c.g, c.popts, c.hosts, c.cluster.PreflightNeeds)
}

// lock takes the run lock on the selected hosts and on the proxies and
// Tomcats outside --hosts, dialled now: a rollout drains at every proxy
// and gates on every Tomcat, so a run limited to one host still works on
// them, and nothing may change them meanwhile.
func (c *cmdRun) lock() error {
	c.r.withPeers(c.ctx())
	c.atEnd(func() error { c.r.close(); return nil })
	return c.lockHosts(c.r.lockSet())
}

// lockHosts takes the run lock on hosts until the command ends.
func (c *cmdRun) lockHosts(hosts []*engine.Host) error {
	lock, err := lockHosts(c.ctx(), c.g, hosts, c.ints.halt)
	if err != nil {
		return err
	}
	c.atEnd(lock.Release)
	if c.r != nil {
		c.r.lock = lock
	}
	return nil
}

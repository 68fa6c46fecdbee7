package phase

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/output"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/sshsettings"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// resolveSSH derives every host's connection settings (inventory, then
// ssh.config, then defaults) and prints what of the ssh_config is not
// honoured. An ssh_config line at fault is a usage error: nothing has been
// contacted yet.
func resolveSSH(inv *inventory.Inventory, g *Options) (map[string]sshsettings.Host, error) {
	r, err := sshsettings.Load(inv, sshsettings.Options{
		AcceptNewHostKeys: g.AcceptNewHostKeys,
		ConnectTimeout:    g.ConnectTimeout,
		Prompt:            transport.TerminalPrompt(),
	})
	if err != nil {
		return nil, err
	}
	for _, w := range r.Warnings() {
		fmt.Fprintln(g.Stderr, "warning:", w)
	}
	reach := map[string]sshsettings.Host{}
	for _, h := range inv.AllHosts() {
		if reach[h.Name], err = r.For(h); err != nil {
			return nil, err
		}
	}
	return reach, nil
}

// printSSHSettings is the dry run's account of how each host would be
// reached, and where each value came from. Secrets never appear: the
// settings hold file names and env var names only.
func printSSHSettings(w io.Writer, inv *inventory.Inventory, g *Options) {
	fmt.Fprintln(w, "# SSH settings (the inventory wins, then "+sshConfigName(inv)+", then defaults):")
	for _, h := range inv.Hosts {
		r := g.reach[h.Name]
		fmt.Fprintf(w, "#   %s: %s\n", h.Name, r.Destination())
		for _, s := range r.Settings {
			fmt.Fprintf(w, "#     %-16s %s  (%s)\n", s.Name, s.Value, s.Source)
		}
	}
	fmt.Fprintln(w)
}

// writeSSHSettings is printSSHSettings for -o json: one "ssh_settings"
// line per host before the run's events.
func writeSSHSettings(w io.Writer, inv *inventory.Inventory, g *Options) {
	type setting struct {
		Name   string `json:"name"`
		Value  string `json:"value"`
		Source string `json:"source"`
	}
	type line struct {
		Type        string    `json:"type"`
		Host        string    `json:"host"`
		Destination string    `json:"destination"`
		Settings    []setting `json:"settings"`
	}
	lines := output.NewLines(w)
	for _, h := range inv.Hosts {
		r := g.reach[h.Name]
		var ss []setting
		for _, s := range r.Settings {
			ss = append(ss, setting{s.Name, s.Value, s.Source})
		}
		lines.Write(line{"ssh_settings", h.Name, r.Destination(), ss})
	}
}

func sshConfigName(inv *inventory.Inventory) string {
	if inv.SSH.Config == inventory.SSHConfigNone {
		return "no ssh_config (ssh.config: none)"
	}
	if _, err := os.Stat(inv.SSH.Config); err != nil {
		return inv.SSH.Config + " (absent)"
	}
	return inv.SSH.Config
}

// dialed is one host's connection, or why there is none.
type dialed struct {
	host inventory.Host
	conn remote.Conn
	err  error
}

// dialAll connects to every host at once (bounded by --parallel), so that
// one unreachable host costs one connect timeout, not one per host.
func dialAll(ctx context.Context, inv *inventory.Inventory, g *Options) []dialed {
	hosts := inv.Hosts
	out := make([]dialed, len(hosts))
	jumps := g.Bastions()
	parallel.Each(len(hosts), g.Parallel, func(i int) {
		cfg := g.reach[hosts[i].Name].Config
		cfg.Jumps = jumps
		c, err := transport.Dial(ctx, cfg)
		out[i] = dialed{host: hosts[i], err: err}
		if err == nil {
			out[i].conn = probe.Wrap(c)
		}
	})
	return out
}

// engineHosts turns connections into engine hosts; a host that could not
// be dialled becomes one that fails its "connect" step, so it shows in the
// recap like any other failure while the others carry on.
func engineHosts(ds []dialed) []*engine.Host {
	hosts := make([]*engine.Host, len(ds))
	for i, d := range ds {
		if d.err != nil {
			hosts[i] = engine.UnreachableHost(d.host.Name, d.err)
		} else {
			hosts[i] = engine.NewHost(d.conn, nil)
		}
	}
	return hosts
}

// recapError is the command's error (exit 1) when any host failed; the
// recap has already named each one and why.
func recapError(recap engine.Recap) error {
	if !recap.Failed() {
		return nil
	}
	return HostsFailed(fmt.Errorf("%d of %d hosts failed", recap.FailedHosts(), len(recap.Hosts)))
}

// reportSessions says, per host, how many SSH session channels the command
// opened and how its reads were served (-o json: one "ssh_sessions" line
// each; text: with -v). Each channel is a round trip or more: this is what
// makes a run slow on a far network, and what a benchmark counts.
func reportSessions(g *Options, ds []dialed) {
	type line struct {
		Type     string `json:"type"`
		Host     string `json:"host"`
		Sessions int64  `json:"sessions"`
		probe.Stats
	}
	if g.Output != "json" && !g.Verbose {
		return
	}
	lines := output.NewLines(g.Stdout)
	for _, d := range ds {
		pc, ok := d.conn.(*probe.Conn)
		if !ok {
			continue
		}
		l := line{"ssh_sessions", d.host.Name, pc.Sessions(), pc.Stats()}
		if g.Output == "json" {
			lines.Write(l)
			continue
		}
		fmt.Fprintf(g.Stderr, "ssh: %s: %d session channels; %d reads from %d batches, %d alone, %d dropped by a change\n",
			l.Host, l.Sessions, l.Served, l.Batches, l.Missed, l.Dropped)
	}
}

// closeAll ends the hosts' connections; the bastions' under them stay for
// the rest of the command (Main closes them).
func closeAll(ds []dialed) {
	for _, d := range ds {
		if d.conn != nil {
			d.conn.Close()
		}
	}
}

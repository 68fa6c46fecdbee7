package cli

import (
	"context"
	"fmt"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// transportConfig is how one inventory host is reached; the inventory has
// already expanded ~ and resolved relative paths.
func transportConfig(inv *inventory.Inventory, h inventory.Host, g *globalOptions) transport.Config {
	timeout := inv.SSH.ConnectTimeout.Std()
	if g.connectTimeout > 0 {
		timeout = g.connectTimeout
	}
	return transport.Config{
		Host:              h.Name,
		Address:           h.Address,
		Port:              h.SSHPort(),
		User:              h.SSHUser(),
		KeyFiles:          inv.SSH.KeyFiles,
		UseAgent:          inv.SSH.Agent,
		PasswordEnv:       inv.SSH.PasswordEnv,
		PassphraseEnv:     inv.SSH.PassphraseEnv,
		Prompt:            transport.TerminalPrompt(),
		KnownHostsFile:    inv.SSH.KnownHosts,
		AcceptNewHostKeys: g.acceptNewHostKeys,
		ConnectTimeout:    timeout,
	}
}

// dialed is one host's connection, or why there is none.
type dialed struct {
	host inventory.Host
	conn remote.Conn
	err  error
}

// dialAll connects to every host at once (bounded by --parallel), so that
// one unreachable host costs one connect timeout, not one per host.
func dialAll(ctx context.Context, inv *inventory.Inventory, g *globalOptions) []dialed {
	hosts := inv.Hosts
	out := make([]dialed, len(hosts))
	parallel.Each(len(hosts), g.parallel, func(i int) {
		c, err := transport.Dial(ctx, transportConfig(inv, hosts[i], g))
		out[i] = dialed{host: hosts[i], err: err}
		if err == nil {
			out[i].conn = c
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
	return hostsFailed(fmt.Errorf("%d of %d hosts failed", recap.FailedHosts(), len(recap.Hosts)))
}

func closeAll(ds []dialed) {
	for _, d := range ds {
		if d.conn != nil {
			d.conn.Close()
		}
	}
}

package cli

import (
	"context"
	"sync"

	"github.com/clusterctl/clusterctl/internal/inventory"
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
	sem := make(chan struct{}, g.parallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := transport.Dial(ctx, transportConfig(inv, h, g))
			out[i] = dialed{host: h, err: err}
			if err == nil {
				out[i].conn = c
			}
		}()
	}
	wg.Wait()
	return out
}

func closeAll(ds []dialed) {
	for _, d := range ds {
		if d.conn != nil {
			d.conn.Close()
		}
	}
}

package phase

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/internal/topology"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// startLoad starts the user simulator against every proxy, when asked.
func startLoad(ctx context.Context, inv *inventory.Inventory, g *Options, on bool) (*loadgen.Load, error) {
	if !on {
		return nil, nil
	}
	var urls []string
	for _, h := range inv.AllHosts() {
		if h.Has(inventory.RoleProxy) {
			urls = append(urls, fmt.Sprintf("http://%s:%d%s/", h.Address, inv.Nginx.Listen, topology.ProbeContext))
		}
	}
	l, err := loadgen.Start(ctx, loadgen.Config{URLs: urls, Duration: 15 * time.Minute, Dial: loadDialer(inv, g)})
	if err != nil {
		return nil, UsageError(err)
	}
	return l, nil
}

// loadDialer sends the simulated users' HTTP to a proxy that SSH reaches
// through a bastion through that bastion too: behind one, the proxy's port
// is as unreachable from here as its sshd. Other proxies are dialled
// directly, as a user would.
func loadDialer(inv *inventory.Inventory, g *Options) func(context.Context, string, string) (net.Conn, error) {
	via := map[string]*transport.Config{}
	for _, h := range inv.AllHosts() {
		if b := g.reach[h.Name].Config.Bastion; h.Has(inventory.RoleProxy) && b != nil {
			via[net.JoinHostPort(h.Address, strconv.Itoa(inv.Nginx.Listen))] = b
		}
	}
	direct := &net.Dialer{Timeout: 3 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if b, ok := via[addr]; ok {
			return g.Bastions().Dial(ctx, *b, addr)
		}
		return direct.DialContext(ctx, network, addr)
	}
}

// stopLoad prints the figures of a load started by startLoad.
func stopLoad(w io.Writer, g *Options, l *loadgen.Load) {
	if l == nil {
		return
	}
	r := l.Stop()
	if g.Output == "json" {
		writeEvent(w, loadEvent{Type: "load", Report: r})
		return
	}
	fmt.Fprintf(w, "load: %s\n", r)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

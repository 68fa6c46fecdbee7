package verify

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/internal/memcache"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// liveEnv is the drill's drillEnv over the hosts' SSH connections.
type liveEnv struct {
	r     *run
	probe *prober
}

func (e *liveEnv) Get(ctx context.Context, session string) (Probe, error) {
	return e.probe.get(ctx, session)
}

func (e *liveEnv) Key(ctx context.Context, from string, node topology.Node, key string) ([]byte, bool, error) {
	d, why := e.r.dialer(from)
	if d == nil {
		return nil, false, fmt.Errorf("%s", why)
	}
	nc, err := d.DialTCP(ctx, net.JoinHostPort(node.Address, strconv.Itoa(node.Port)))
	if err != nil {
		return nil, false, err
	}
	mc := memcache.New(nc)
	defer mc.Close()
	v, _, found, err := mc.Get(ctx, key)
	return v, found, err
}

func (e *liveEnv) Whole(ctx context.Context, host, unit string) (time.Duration, string, error) {
	return e.r.wholeAgain(ctx, host, unit)
}

// Stop stops unit, or with a hard drill kills it: SIGKILL to every process
// of the unit (no shutdown, requests in flight dropped), then a stop so
// that systemd's Restart= does not bring it back before the drill does.
func (e *liveEnv) Stop(ctx context.Context, host, unit string) error {
	if e.r.hard {
		if err := e.systemctl(ctx, host, "kill -s KILL --kill-who=all", unit); err != nil {
			return err
		}
	}
	return e.systemctl(ctx, host, "stop", unit)
}

// Load starts the user simulator through the proxy's SSH tunnels (verify
// reaches cluster ports only that way), or returns nil without --load.
func (e *liveEnv) Load(ctx context.Context) (*loadgen.Load, error) {
	if !e.r.load {
		return nil, nil
	}
	return loadgen.Start(ctx, loadgen.Config{
		URLs:     []string{"http://" + e.probe.addr + probeContextName + "/"},
		Duration: 5 * time.Minute, MaxRequests: 200_000,
		Dial: func(ctx context.Context, _, addr string) (net.Conn, error) { return e.probe.dial.DialTCP(ctx, addr) },
	})
}

// Start starts unit and waits until it answers on the host's cluster
// address: systemctl returns once the process runs, long before Tomcat
// serves.
func (e *liveEnv) Start(ctx context.Context, host, unit string) error {
	if err := e.systemctl(ctx, host, "start", unit); err != nil {
		return err
	}
	h, ok := e.r.inv.Host(host)
	if !ok {
		return fmt.Errorf("no host %s in the inventory", host)
	}
	d, why := e.r.dialer(host)
	if d == nil {
		return fmt.Errorf("%s", why)
	}
	var probe func() error
	switch unit {
	case unitMemcached:
		probe = func() error {
			_, err := memcachedVersion(ctx, d, e.r.memcachedAddr(h), e.r.timing.Connect, e.r.timing.Command)
			return err
		}
	case unitTomcat:
		addr := net.JoinHostPort(h.Address, strconv.Itoa(e.r.inv.Tomcat.Port))
		probe = func() error {
			_, err := httpStatusLine(ctx, d, addr, e.r.timing.Connect, e.r.timing.Request)
			return err
		}
	default:
		return nil
	}
	for {
		err := probe()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s started but does not answer: %v", unit, err)
		}
		sleep(ctx, e.r.timing.Poll)
	}
}

func (e *liveEnv) systemctl(ctx context.Context, host, verb, unit string) error {
	c, why := e.r.conn(host)
	if c == nil {
		return fmt.Errorf("%s", why)
	}
	res, err := e.r.cmd(ctx, c, "systemctl "+verb+" "+shellQuote(unit))
	if err != nil {
		return err
	}
	return res.ExitError("systemctl " + verb + " " + unit)
}

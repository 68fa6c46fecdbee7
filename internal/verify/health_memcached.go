package verify

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/memcache"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// memcachedClients are the Tomcat hosts other than h: each must reach h's
// memcached, because a Tomcat that takes over a session loads it from
// whichever node its id names.
func (r *run) memcachedClients(h inventory.Host) []string {
	var out []string
	for _, o := range r.inv.AllHosts() {
		if o.Name != h.Name && o.Has(inventory.RoleTomcat) {
			out = append(out, o.Name)
		}
	}
	return out
}

func (r *run) memcachedAddr(h inventory.Host) string {
	return net.JoinHostPort(h.Address, strconv.Itoa(r.inv.Memcached.Port))
}

const tcpListenersCmd = "ss -Hltn"

// checkMemcachedListens reads the host's own listening sockets, which
// explains a refused connection: memcached bound to 127.0.0.1 only.
func (r *run) checkMemcachedListens(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	res, err := r.read(ctx, c, tcpListenersCmd)
	if err != nil {
		return fail("%v", err)
	}
	if !res.OK() {
		return fail("ss -ltn: %s", remote.LastLine(res.Stderr, res.Stdout))
	}
	addr, _ := netip.ParseAddr(h.Address)
	return judgeListens(parseListeners(res.Stdout, r.inv.Memcached.Port), addr, r.inv.Memcached.Port)
}

func judgeListens(ls []netip.AddrPort, addr netip.Addr, port int) (Status, string) {
	switch {
	case len(ls) == 0:
		return fail("nothing listens on tcp port %d (is memcached running with -p %d?)", port, port)
	case !listensOn(ls, addr):
		return fail("memcached listens only on %s, not on %s where the other Tomcats connect: set -l %s in memcached's config (clusterctl apply writes it)", joinAddrPorts(ls), addr, addr)
	}
	return ok("listening on %s", joinAddrPorts(ls))
}

// checkMemcachedFrom opens a tunnel from Tomcat host `from` to h's memcached
// cluster address and asks for its version: exactly the path MSM on that
// Tomcat uses.
func (r *run) checkMemcachedFrom(ctx context.Context, h inventory.Host, from string) (Status, string) {
	d, why := r.dialer(from)
	if d == nil {
		return skip("%s", why)
	}
	addr := r.memcachedAddr(h)
	v, err := memcachedVersion(ctx, d, addr, r.timing.Connect, r.timing.Command)
	if err != nil {
		return fail("%s cannot use memcached at %s: %v (%s)", from, addr, err,
			reachHint(err, h.Name, fmt.Sprintf("see the %q check of %s", CheckMemcachedListens, h.Name)))
	}
	return ok("%s answers version %s", addr, v)
}

// memcachedVersion dials addr through d and asks for the version.
func memcachedVersion(ctx context.Context, d TCPDialer, addr string, connectTimeout, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := connect(ctx, d, addr, connectTimeout)
	if err != nil {
		return "", err
	}
	mc := memcache.New(nc)
	defer mc.Close()
	return mc.Version(ctx)
}

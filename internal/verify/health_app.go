package verify

import (
	"context"
	"strings"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// appChecks: every app's health path answers 2xx at addr, on a Tomcat
// (its own port, asked from a proxy, as nginx asks it) or through a proxy
// (its nginx, asked on the proxy itself).
func (r *run) appChecks(h inventory.Host, addr string) []check {
	var cs []check
	for _, a := range r.inv.Apps {
		cs = append(cs, check{CheckApp + a.Name, func(ctx context.Context, _ remote.Conn) (Status, string) {
			from := h.Name
			if h.Has(inventory.RoleTomcat) {
				from = r.someProxy(h.Name)
			}
			d, why := r.dialer(from)
			if d == nil {
				return fail("%s", why)
			}
			line, err := httpAsk(ctx, d, addr, "GET", a.HealthPath(), h.FQDN, r.timing.Connect, r.timing.Request)
			if err != nil {
				return fail("GET %s at %s (from %s): %v", a.HealthPath(), addr, from, err)
			}
			if f := strings.Fields(line); len(f) < 2 || !strings.HasPrefix(f[1], "2") {
				return fail("GET %s at %s (from %s): %s, want 2xx (is %s deployed? journalctl -u tomcat on the Tomcats)", a.HealthPath(), addr, from, line, a.WAR)
			}
			return ok("GET %s at %s: %s", a.HealthPath(), addr, line)
		}, nil})
	}
	return cs
}

// someProxy is the first proxy SSH reaches, else host itself.
func (r *run) someProxy(host string) string {
	for _, p := range r.inv.AllHosts() {
		if p.Has(inventory.RoleProxy) {
			if d, _ := r.dialer(p.Name); d != nil {
				return p.Name
			}
		}
	}
	return host
}

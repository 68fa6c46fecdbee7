package verify

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/clusterctl/clusterctl/internal/inventory"
)

// catalinaBase is where apply installs Tomcat (CATALINA_HOME = BASE).
func (r *run) catalinaBase() string { return r.inv.CatalinaHome() }

// checkTomcatPort asks Tomcat's HTTP connector for a status line, from the
// proxy when it is reachable (that is where nginx connects from), else
// from the Tomcat host itself.
func (r *run) checkTomcatPort(ctx context.Context, h inventory.Host) (Status, string) {
	addr := net.JoinHostPort(h.Address, strconv.Itoa(r.inv.Tomcat.Port))
	from := r.someProxy(h.Name)
	d, why := r.dialer(from)
	if d == nil {
		return fail("%s", why)
	}
	status, err := httpStatusLine(ctx, d, addr, r.timing.Connect, r.timing.Request)
	if err != nil {
		return fail("from %s: %s does not answer HTTP: %v (%s)", from, addr, err,
			reachHint(err, h.Name, fmt.Sprintf("is tomcat.service running, with the connector on port %d?", r.inv.Tomcat.Port)))
	}
	return ok("%s answers %q (from %s)", addr, status, from)
}

package verify

import (
	"context"
	"net"
	"strconv"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/remote"
)

const nginxTestCmd = "nginx -t 2>&1"

func (r *run) checkNginxConfig(ctx context.Context, c remote.Conn) (Status, string) {
	res, err := r.read(ctx, c, nginxTestCmd)
	if err != nil {
		return fail("%v", err)
	}
	if !res.OK() {
		return fail("nginx -t: %s", remote.LastLine(res.Stdout, res.Stderr))
	}
	return ok("%s", remote.LastLine(res.Stdout))
}

// proberFor makes a prober that reaches nginx on the proxy host from the
// proxy itself, so the operator's machine needs no route to it.
func (r *run) proberFor(proxy inventory.Host) (*prober, string) {
	d, why := r.dialer(proxy.Name)
	if d == nil {
		return nil, why
	}
	host := proxy.FQDN
	if host == "" {
		host = proxy.Name
	}
	return &prober{
		dial:    d,
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(r.inv.Nginx.Listen)),
		host:    host,
		timeout: r.timing.Request,
	}, ""
}

func (r *run) checkProxyRoute(ctx context.Context, proxy inventory.Host) (Status, string) {
	p, why := r.proberFor(proxy)
	if p == nil {
		return fail("%s", why)
	}
	pr, err := p.get(ctx, "")
	if err != nil {
		return fail("%v (nginx must pass .jsp to the Tomcats and the probe app must be deployed at /probe)", err)
	}
	return ok("%s answered by %s (session %s)", ProbePath, pr.Host, pr.Session)
}

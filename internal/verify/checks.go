package verify

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Check names: part of the CLI's interface (text and JSON), so that an
// operator or a script can tell which check failed.
const (
	CheckSSH              = "ssh"
	CheckHostname         = "hostname"
	CheckTimezone         = "timezone"
	CheckTimeSync         = "time sync"
	CheckEtcHosts         = "/etc/hosts"
	CheckJava             = "java"
	CheckTomcatActive     = "tomcat.service"
	CheckTomcatPort       = "tomcat port"
	CheckTomcatJava       = "tomcat runs java.home"
	CheckMSMJars          = "msm jars"
	CheckMSMContext       = "msm context.xml"
	CheckMSMStarted       = "msm manager started"
	CheckMemcachedActive  = "memcached.service"
	CheckMemcachedListens = "memcached listens"
	CheckMemcachedFrom    = "memcached reachable from " // + Tomcat host name
	CheckNginxActive      = "nginx.service"
	CheckNginxConfig      = "nginx -t"
	CheckProxyRoute       = "proxy .jsp route"
	CheckApp              = "app " // + app name: its health path answers 2xx
)

// Units as installed by apply (Debian and RHEL name them alike).
const (
	unitTomcat    = "tomcat.service"
	unitMemcached = "memcached.service"
	unitNginx     = "nginx.service"
)

// check is one named health check on one host.
type check struct {
	name string
	run  func(ctx context.Context, c remote.Conn) (Status, string)
}

// checksFor lists host h's checks, in the order they are reported: the
// host's basics first, then per role (README lists them).
func (r *run) checksFor(h inventory.Host) []check {
	cs := []check{
		{CheckHostname, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkHostname(ctx, c, h) }},
		{CheckTimezone, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTimezone(ctx, c) }},
		{CheckTimeSync, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTimeSync(ctx, c, h) }},
		{CheckEtcHosts, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkEtcHosts(ctx, c) }},
	}
	if h.Has(inventory.RoleTomcat) {
		cs = append(cs,
			check{CheckJava, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkJava(ctx, c) }},
			check{CheckTomcatActive, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkActive(ctx, c, unitTomcat) }},
			check{CheckTomcatPort, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTomcatPort(ctx, h) }},
			check{CheckTomcatJava, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTomcatJava(ctx, c) }},
			check{CheckMSMJars, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMSMJars(ctx, c) }},
			check{CheckMSMContext, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMSMContext(ctx, c, h) }},
			check{CheckMSMStarted, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMSMStarted(ctx, c, h) }},
		)
		cs = append(cs, r.appChecks(h, net.JoinHostPort(h.Address, strconv.Itoa(r.inv.Tomcat.Port)))...)
	}
	if h.Has(inventory.RoleMemcached) {
		cs = append(cs,
			check{CheckMemcachedActive, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkActive(ctx, c, unitMemcached) }},
			check{CheckMemcachedListens, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMemcachedListens(ctx, c, h) }},
		)
		for _, from := range r.memcachedClients(h) {
			cs = append(cs, check{CheckMemcachedFrom + from, func(ctx context.Context, _ remote.Conn) (Status, string) {
				return r.checkMemcachedFrom(ctx, h, from)
			}})
		}
	}
	if h.Has(inventory.RoleProxy) {
		cs = append(cs,
			check{CheckNginxActive, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkActive(ctx, c, unitNginx) }},
			check{CheckNginxConfig, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkNginxConfig(ctx, c) }},
			check{CheckProxyRoute, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkProxyRoute(ctx, h) }},
		)
		cs = append(cs, r.appChecks(h, net.JoinHostPort("127.0.0.1", strconv.Itoa(r.inv.Nginx.Listen)))...)
	}
	return cs
}

// health runs every host's checks, hosts in parallel (at most parallel at
// once), each host's checks in order.
func (r *run) health(ctx context.Context, hosts []string, limit int) {
	parallel.Each(len(hosts), limit, func(i int) { r.hostHealth(ctx, hosts[i]) })
}

func (r *run) hostHealth(ctx context.Context, name string) {
	t := r.targets[name]
	if t.Err != nil || t.Conn == nil {
		// The other checks of this host cannot run; saying so once is
		// clearer than a dozen "skipped" lines.
		reason := "no connection"
		if t.Err != nil {
			reason = oneLine(t.Err.Error())
		}
		r.emit(Result{Phase: PhaseHealth, Host: name, Check: CheckSSH, Status: StatusFailed, Reason: reason + " (other checks of this host not run)"})
		return
	}
	r.emit(Result{Phase: PhaseHealth, Host: name, Check: CheckSSH, Status: StatusOK, Reason: "logged in as " + t.Host.SSHUser()})
	for _, c := range r.checksFor(t.Host) {
		if ctx.Err() != nil {
			r.emit(Result{Phase: PhaseHealth, Host: name, Check: c.name, Status: StatusSkipped, Reason: "interrupted"})
			continue
		}
		start := time.Now()
		st, reason := c.run(ctx, t.Conn)
		d := time.Since(start)
		r.emit(Result{Phase: PhaseHealth, Host: name, Check: c.name, Status: st, Reason: oneLine(reason), Latency: d, Duration: d})
	}
}

// oneLine folds a multi-line message so every result stays one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.NewReplacer("\r\n", "; ", "\n", "; ", "\r", " ").Replace(s)
}

func ok(format string, args ...any) (Status, string)   { return StatusOK, sprintf(format, args...) }
func fail(format string, args ...any) (Status, string) { return StatusFailed, sprintf(format, args...) }
func skip(format string, args ...any) (Status, string) {
	return StatusSkipped, sprintf(format, args...)
}

package verify

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/probe"
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
	// probes are the read-only commands run starts with, read for all of
	// a host's checks in one batch (see package probe); a check that
	// reads more, or over a tunnel, still works.
	probes []string
}

// checksFor lists host h's checks, in the order they are reported: the
// host's basics first, then per role (README lists them).
func (r *run) checksFor(h inventory.Host) []check {
	cs := []check{
		{CheckHostname, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkHostname(ctx, c, h) }, []string{hostnameCmd}},
		{CheckTimezone, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTimezone(ctx, c) }, []string{timezoneCmd}},
		{CheckTimeSync, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTimeSync(ctx, c, h) }, r.timeSyncProbes(h)},
		{CheckEtcHosts, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkEtcHosts(ctx, c) }, []string{r.etcHostsCmd()}},
	}
	if h.Has(inventory.RoleTomcat) {
		cs = append(cs,
			check{CheckJava, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkJava(ctx, c) }, []string{r.javaVersionCmd()}},
			check{CheckTomcatActive, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkActive(ctx, c, unitTomcat) }, []string{activeCmd(unitTomcat)}},
			check{CheckTomcatPort, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTomcatPort(ctx, h) }, nil},
			check{CheckTomcatJava, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkTomcatJava(ctx, c) }, []string{r.tomcatJavaCmd()}},
			check{CheckMSMJars, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMSMJars(ctx, c) }, []string{r.msmJarsCmd()}},
			check{CheckMSMContext, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMSMContext(ctx, c, h) }, []string{probe.ReadCmd(r.contextFile())}},
			check{CheckMSMStarted, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMSMStarted(ctx, c, h) }, []string{r.msmLogScript()}},
		)
		cs = append(cs, r.appChecks(h, net.JoinHostPort(h.Address, strconv.Itoa(r.inv.Tomcat.Port)))...)
	}
	if h.Has(inventory.RoleMemcached) {
		cs = append(cs,
			check{CheckMemcachedActive, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkActive(ctx, c, unitMemcached) }, []string{activeCmd(unitMemcached)}},
			check{CheckMemcachedListens, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkMemcachedListens(ctx, c, h) }, []string{tcpListenersCmd}},
		)
		for _, from := range r.memcachedClients(h) {
			cs = append(cs, check{CheckMemcachedFrom + from, func(ctx context.Context, _ remote.Conn) (Status, string) {
				return r.checkMemcachedFrom(ctx, h, from)
			}, nil})
		}
	}
	if h.Has(inventory.RoleProxy) {
		cs = append(cs,
			check{CheckNginxActive, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkActive(ctx, c, unitNginx) }, []string{activeCmd(unitNginx)}},
			check{CheckNginxConfig, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkNginxConfig(ctx, c) }, []string{nginxTestCmd}},
			check{CheckProxyRoute, func(ctx context.Context, c remote.Conn) (Status, string) { return r.checkProxyRoute(ctx, h) }, nil},
		)
		cs = append(cs, r.appChecks(h, net.JoinHostPort("127.0.0.1", strconv.Itoa(r.inv.Nginx.Listen)))...)
	}
	return cs
}

// health runs every host's checks, hosts in parallel (at most parallel at
// once), each host's checks at once, reported in order.
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
	checks := r.checksFor(t.Host)
	r.prefetch(ctx, t.Conn, checks)
	// The checks run at once (the SSH reads are served from the batch;
	// the rest each open a tunnel, a round trip or two apiece) and are
	// reported in order.
	results := make([]Result, len(checks))
	parallel.Each(len(checks), len(checks), func(i int) {
		c := checks[i]
		if ctx.Err() != nil {
			results[i] = Result{Phase: PhaseHealth, Host: name, Check: c.name, Status: StatusSkipped, Reason: "interrupted"}
			return
		}
		start := time.Now()
		st, reason := c.run(ctx, t.Conn)
		d := time.Since(start)
		results[i] = Result{Phase: PhaseHealth, Host: name, Check: c.name, Status: st, Reason: oneLine(reason), Latency: d, Duration: d}
	})
	for _, res := range results {
		r.emit(res)
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

// prefetch reads every check's declared commands in one remote command.
// A batch that fails costs only its round trip: each check then reads on
// its own, and its own error is the one reported.
func (r *run) prefetch(ctx context.Context, c remote.Conn, checks []check) {
	var cmds []string
	for _, ch := range checks {
		cmds = append(cmds, ch.probes...)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timing.Command)
	defer cancel()
	_ = probe.Prefetch(ctx, c, cmds)
}

func (r *run) etcHostsCmd() string { _, _, cmd := r.etcHostsLookup(); return cmd }

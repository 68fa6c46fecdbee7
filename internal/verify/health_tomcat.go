package verify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// catalinaBase is where apply installs Tomcat (CATALINA_HOME = BASE).
func (r *run) catalinaBase() string { return r.inv.CatalinaHome() }

func (r *run) checkJava(ctx context.Context, c remote.Conn) (Status, string) {
	java := path.Join(r.inv.Java.Home, "bin", "java")
	res, err := r.cmd(ctx, c, shellQuote(java)+" -version 2>&1")
	if err != nil {
		return fail("%v", err)
	}
	if res.ExitCode == 127 || res.ExitCode == 126 {
		return fail("%s not found or not executable (java.home in the inventory; clusterctl apply installs the JDK)", java)
	}
	if !res.OK() {
		return fail("%s -version exit %d: %s", java, res.ExitCode, remote.LastLine(res.Stdout, res.Stderr))
	}
	return ok("%s", firstLine(res.Stdout))
}

// checkTomcatJava: the JVM Tomcat runs is the java.home the inventory
// names (the unpacked tarball, or the package's Java home), not whatever
// java another JDK on the host put first on the PATH.
func (r *run) checkTomcatJava(ctx context.Context, c remote.Conn) (Status, string) {
	java := path.Join(r.inv.Java.Home, "bin", "java")
	res, err := r.cmd(ctx, c, `pid=$(systemctl show -p MainPID --value tomcat); echo "pid $pid"; `+
		`readlink -f /proc/$pid/exe 2>/dev/null || echo; readlink -f `+shellQuote(java)+` || echo`)
	if err != nil {
		return fail("%v", err)
	}
	lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "pid 0" || lines[0] == "pid " {
		return skip("tomcat is not running")
	}
	running, want := strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
	switch {
	case want == "":
		return fail("%s does not exist (java.home; clusterctl apply links it)", java)
	case running != want:
		return fail("Tomcat runs %s, not %s (= %s): JAVA_HOME in tomcat.service is not java.home; run clusterctl apply", running, java, want)
	}
	return ok("%s (%s)", running, strings.TrimPrefix(lines[0], "pid "))
}

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

// httpStatusLine sends a minimal HEAD request and returns the status line:
// any HTTP answer proves the connector is up, without creating a session.
func httpStatusLine(ctx context.Context, d TCPDialer, addr string, connectTimeout, timeout time.Duration) (string, error) {
	return httpAsk(ctx, d, addr, "HEAD", "/", "", connectTimeout, timeout)
}

// httpAsk sends one request (Host header host, or addr's host when "")
// and returns the answer's status line.
func httpAsk(ctx context.Context, d TCPDialer, addr, method, path, host string, connectTimeout, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := connect(ctx, d, addr, connectTimeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if host == "" {
		host, _, _ = net.SplitHostPort(addr)
	}
	if _, err := io.WriteString(nc, method+" "+path+" HTTP/1.0\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "HTTP/") {
		if err != nil {
			return "", fmt.Errorf("connection closed without an answer (%v)", err)
		}
		return "", fmt.Errorf("not an HTTP answer: %q", firstLine(line))
	}
	return line, nil
}

// msmJar is one jar MSM needs in $CATALINA_BASE/lib, matched by name.
type msmJar struct {
	name string // for messages
	re   *regexp.Regexp
}

// requiredJars follows docs/msm.md: core, the Tomcat-specific module and
// spymemcached always; kryo and its dependencies with serializer kryo.
func requiredJars(inv *inventory.Inventory) []msmJar {
	v := regexp.QuoteMeta(inv.MSM.Version)
	jar := func(name, re string) msmJar { return msmJar{name, regexp.MustCompile("^" + re + `\.jar$`)} }
	js := []msmJar{
		jar("memcached-session-manager-"+inv.MSM.Version+".jar", "memcached-session-manager-"+v),
		jar("memcached-session-manager-"+inv.Tomcat.MSMModule()+"-"+inv.MSM.Version+".jar", "memcached-session-manager-"+regexp.QuoteMeta(inv.Tomcat.MSMModule())+"-"+v),
		jar("spymemcached-2.12.x.jar", `spymemcached-2\.12\.\d+`),
	}
	if inv.MSM.Serializer == inventory.SerializerKryo {
		js = append(js,
			jar("msm-kryo-serializer-"+inv.MSM.Version+".jar", "msm-kryo-serializer-"+v),
			jar("kryo-4.x.jar", `kryo-4\.[\d.]+`),
			jar("kryo-serializers-*.jar", `kryo-serializers-[\d.]+`),
			jar("reflectasm-*.jar", `reflectasm-[\d.]+`),
			jar("minlog-*.jar", `minlog-[\d.]+`),
			jar("asm-*.jar", `asm-[\d.]+`),
			jar("objenesis-*.jar", `objenesis-[\d.]+`),
		)
	}
	return js
}

func (r *run) checkMSMJars(ctx context.Context, c remote.Conn) (Status, string) {
	lib := path.Join(r.catalinaBase(), "lib")
	res, err := r.cmd(ctx, c, "ls -1 "+shellQuote(lib))
	if err != nil {
		return fail("%v", err)
	}
	if !res.OK() {
		return fail("%s: %s (clusterctl apply installs Tomcat there)", lib, remote.LastLine(res.Stderr))
	}
	return judgeJars(lib, strings.Fields(res.Stdout), requiredJars(r.inv))
}

func judgeJars(lib string, files []string, want []msmJar) (Status, string) {
	var missing, found []string
	for _, j := range want {
		i := slices.IndexFunc(files, j.re.MatchString)
		if i < 0 {
			missing = append(missing, j.name)
			continue
		}
		found = append(found, files[i])
	}
	if len(missing) > 0 {
		return fail("missing in %s: %s (Tomcat cannot load MSM's Manager without them; clusterctl apply installs them)", lib, strings.Join(missing, ", "))
	}
	return ok("%s", strings.Join(found, ", "))
}

func (r *run) checkMSMContext(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	file := path.Join(r.catalinaBase(), "conf", "context.xml")
	ctx, cancel := context.WithTimeout(ctx, r.timing.Command)
	defer cancel()
	data, exists, err := c.ReadFile(ctx, file)
	switch {
	case err != nil:
		return fail("%v", err)
	case !exists:
		return fail("%s does not exist (clusterctl apply writes it)", file)
	}
	tc, _ := r.topo.Tomcat(h.Name)
	m, err := parseContextManager(data)
	if err != nil {
		return fail("%s: %v (clusterctl apply writes it)", file, err)
	}
	return judgeContext(file, m, tc.MemcachedNodes, tc.FailoverNodes, r.topo.Sticky, h.Name)
}

// judgeContext compares the Manager with what the topology says this
// Tomcat must use. Lists are compared as sets: MSM does not care about
// order or about comma versus space.
func judgeContext(file string, m msmManager, wantNodes, wantFailover string, sticky bool, host string) (Status, string) {
	var bad []string
	if got := nodeSet(m.MemcachedNodes); !slices.Equal(got, nodeSet(wantNodes)) {
		bad = append(bad, fmt.Sprintf("memcachedNodes=%q, want %q", m.MemcachedNodes, wantNodes))
	}
	if got := nodeSet(m.FailoverNodes); !slices.Equal(got, nodeSet(wantFailover)) {
		why := ""
		if sticky {
			why = fmt.Sprintf(" (%s's own memcached: sessions must be backed up on another host)", host)
		}
		bad = append(bad, fmt.Sprintf("failoverNodes=%q, want %q%s", m.FailoverNodes, wantFailover, why))
	}
	// MSM's default is sticky="true".
	gotSticky := m.Sticky == "" || strings.EqualFold(m.Sticky, "true")
	if gotSticky != sticky {
		bad = append(bad, fmt.Sprintf("sticky=%q, want %t", m.Sticky, sticky))
	}
	if len(bad) > 0 {
		return fail("%s: %s; run clusterctl apply (it restarts Tomcat)", file, strings.Join(bad, "; "))
	}
	return ok("memcachedNodes=%q failoverNodes=%q", m.MemcachedNodes, m.FailoverNodes)
}

// msmLogScript prints Tomcat's log since the unit last started: the
// journal of the unit's current invocation (catalina.sh run logs to
// stdout), then, after a marker, the end of the newest catalina.*.log.
func (r *run) msmLogScript() string {
	logs := shellQuote(path.Join(r.catalinaBase(), "logs"))
	return `id=$(systemctl show -p InvocationID --value ` + unitTomcat + ` 2>/dev/null)
if [ -n "$id" ]; then journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="$id" 2>/dev/null | tail -n 5000; fi
echo '` + logMarker + `'
f=$(ls -t ` + logs + `/catalina.*.log 2>/dev/null | head -n 1)
if [ -n "$f" ]; then tail -n 5000 "$f"; fi`
}

const logMarker = "--- clusterctl: catalina log file ---"

func (r *run) checkMSMStarted(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	res, err := r.cmd(ctx, c, r.msmLogScript())
	if err != nil {
		return fail("%v", err)
	}
	journal, file, _ := strings.Cut(res.Stdout, logMarker)
	// The file spans earlier starts too: keep its last start only.
	if i := strings.LastIndex(file, "Starting service ["); i >= 0 {
		file = file[i:]
	}
	s := parseMSMLog(pickTomcatLog(journal, file))
	tc, _ := r.topo.Tomcat(h.Name)
	var primary []string
	for _, n := range r.topo.Nodes {
		if n.ID != tc.FailoverNode.ID {
			primary = append(primary, n.ID)
		}
	}
	return judgeMSMStart(s, primary, nodeSet(tc.FailoverNodes))
}

// pickTomcatLog decides which log tells about the running Tomcat. When
// Tomcat logs to the journal (catalina.sh run under systemd), the current
// invocation's journal is the whole truth: a Tomcat still starting has no
// MSM line yet, and the log file's last start may be an older JVM's. Only
// a Tomcat that logs nothing to the journal is judged by its log file.
func pickTomcatLog(journal, file string) string {
	if strings.Contains(journal, "org.apache.catalina") || strings.Contains(journal, "de.javakaffee") {
		return journal
	}
	return file
}

func judgeMSMStart(s msmStart, wantPrimary, wantFailover []string) (Status, string) {
	switch {
	case !s.Started && s.Failure != "":
		return fail("MSM's Manager did not start; Tomcat's log says: %s", s.Failure)
	case !s.Started:
		return fail("no MSM start line in Tomcat's log since tomcat.service started: the Manager is not configured or the context did not start (see journalctl -u tomcat.service)")
	case s.Failure != "":
		return fail("MSM started, then Tomcat logged: %s", s.Failure)
	case s.FailoverIDs != nil && !slices.Equal(s.FailoverIDs, wantFailover),
		s.NodeIDs != nil && !slices.Equal(s.NodeIDs, wantPrimary):
		return fail("running MSM uses node ids %v, failover node ids %v; the inventory wants %v, %v (fix context.xml with clusterctl apply; if it is right already, Tomcat has not been restarted since it changed)", s.NodeIDs, s.FailoverIDs, wantPrimary, wantFailover)
	}
	what := "memcached-session-manager started"
	if s.StandIn {
		what = "MSM test double (lab stand-in, not real MSM) started"
	}
	return ok("%s: node ids %v, failover node ids %v", what, s.NodeIDs, s.FailoverIDs)
}

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
		}})
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

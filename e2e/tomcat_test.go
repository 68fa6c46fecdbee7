//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The lab's artifacts work in the real hosts, by hand (no clusterctl apply):
// the JDK and Tomcat tarballs unpacked in t58 and t68 start and serve a JSP,
// and the MSM jars (the lab's stand-in) keep a session in memcached on the
// other host, survive a Tomcat failover and a memcached outage.
//
// Everything lives under tomcatTestDir, in the transient unit e2e-tomcat and
// in the memcached package. It starts from pristine hosts (a teardown
// first when a test before it applied), and all of it is removed again at
// the end: the hosts must equal their pristine fingerprints.
func TestTomcatMSMInHosts(t *testing.T) {
	ensurePristine(t)
	t.Cleanup(func() { assertPristine(t, "after the by-hand Tomcat test") }) // runs after the hosts' cleanups
	purgePackagesAtEnd(t, "t58", "")
	purgePackagesAtEnd(t, "t68", "")
	start := time.Now()
	m := testLab.Artifacts
	if m.TomcatTarball == "" || m.JDKTarball == "" || len(m.MSMJars) == 0 {
		t.Fatalf("lab has no artifacts manifest: %+v", m)
	}
	t.Logf("artifacts: %s (%s), %s (%s), MSM %s %v (stand-in: %v)",
		m.TomcatTarball, m.TomcatTopDir, m.JDKTarball, m.JDKTopDir, m.MSMVersion, m.MSMJars, m.MSMStandIn)

	a58, a68 := hostAddr(t, "t58"), hostAddr(t, "t68")
	nodes := fmt.Sprintf("n1:%s:11211,n2:%s:11211", a58, a68)
	hosts := []tomcatHost{
		{name: "t58", addr: a58, failover: "n1"},
		{name: "t68", addr: a68, failover: "n2"},
	}
	for _, h := range hosts {
		t.Cleanup(func() { cleanupTomcatHost(t, h) })
	}

	// Both hosts in parallel: upload, unpack, memcached, config, start.
	t.Run("setup", func(t *testing.T) {
		for _, h := range hosts {
			t.Run(h.name, func(t *testing.T) {
				t.Parallel()
				setupTomcatHost(t, h, nodes)
			})
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	// Both memcached must answer before a Tomcat starts: MSM treats a node
	// that is down at start as unavailable for the first requests.
	for _, h := range hosts {
		if v, err := mcVersion(h.addr); err != nil || !strings.HasPrefix(v, "VERSION 1.") {
			t.Fatalf("memcached on %s:11211 from outside: %q, %v", h.addr, v, err)
		}
	}
	for _, h := range hosts {
		startTomcatUnit(t, h)
	}
	for _, h := range hosts {
		waitTomcat(t, h, 120*time.Second)
	}
	t.Logf("setup (upload, unpack, memcached, 2 Tomcats up) took %v", time.Since(start).Round(100*time.Millisecond))

	t58, t68 := hosts[0], hosts[1]

	// 1. New session on t58: its only regular node is n2 (t68's memcached),
	// the counter rises, the session is stored under its id on n2 only.
	r := t58.get(t, "")
	if !regexp.MustCompile(`^[0-9A-F]{32}-n2\.t58$`).MatchString(r.setCookie) || r.count != 1 {
		t.Fatalf("first request to t58: count=%d id=%q, want 1 and <32 hex>-n2.t58", r.count, r.setCookie)
	}
	// Debian-built jars say "Apache Tomcat/9.0.70 (Debian)".
	if r.localAddr != a58 || !regexp.MustCompile(`^Apache Tomcat/`+regexp.QuoteMeta(m.TomcatVersion)+`( |$)`).MatchString(r.server) {
		t.Errorf("served by %q on %q, want Apache Tomcat/%s on %s", r.server, r.localAddr, m.TomcatVersion, a58)
	}
	id := r.setCookie
	hex := id[:32]
	for want := 2; want <= 3; want++ {
		r = t58.get(t, id)
		if r.count != want || (r.setCookie != "" && r.setCookie != id) {
			t.Fatalf("t58 request %d: count=%d Set-Cookie=%q, want %d and the same session", want, r.count, r.setCookie, want)
		}
	}
	checkMSMKey(t, a68, id)
	checkNoKey(t, a58, id)

	// A second session on t58, left alone until memcached n2 is gone.
	r = t58.get(t, "")
	idB := r.setCookie
	if !regexp.MustCompile(`^[0-9A-F]{32}-n2\.t58$`).MatchString(idB) || r.count != 1 || idB[:32] == hex {
		t.Fatalf("second session on t58: count=%d id=%q, want 1 and a new <32 hex>-n2.t58", r.count, idB)
	}
	checkMSMKey(t, a68, idB)

	// 2. Tomcat failover: t68 gets the cookie, loads the session from n2,
	// takes it over under its route and, n2 being t68's failover node, moves
	// it to n1; the old key goes away.
	r = t68.get(t, id)
	id2 := hex + "-n1.t68"
	if r.count != 4 || r.setCookie != id2 {
		t.Fatalf("t68 takeover: count=%d Set-Cookie=%q, want 4 and %s", r.count, r.setCookie, id2)
	}
	if r.localAddr != a68 {
		t.Errorf("t68 request served on %q", r.localAddr)
	}
	checkMSMKey(t, a58, id2)
	checkNoKey(t, a68, id)

	// 3. memcached on t68 (n2) stops. After MSM's node availability TTL (1 s)
	// the current cookie goes back to t58: t58 loads it from n1, takes it
	// over under route t58 and, with no regular node left, keeps it on its
	// failover node n1. Counter intact.
	StopService(t, "t68", "memcached")
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(a68, "11211"), 2*time.Second); err == nil {
		c.Close()
		t.Fatal("memcached on t68 still accepts connections after stop")
	}
	time.Sleep(2 * time.Second)
	r = t58.get(t, id2)
	id3 := hex + "-n1.t58"
	if r.count != 5 || r.setCookie != id3 {
		t.Fatalf("back on t58 with n2 down: count=%d Set-Cookie=%q, want 5 and %s", r.count, r.setCookie, id3)
	}
	checkMSMKey(t, a58, id3)
	checkNoKey(t, a58, id2)
	r = t58.get(t, id3)
	if r.count != 6 || (r.setCookie != "" && r.setCookie != id3) {
		t.Fatalf("next request on t58: count=%d Set-Cookie=%q, want 6 and the same session", r.count, r.setCookie)
	}

	// 4. The idle second session, still named after n2, is relocated to the
	// failover node n1 on its next request (memcached failover), counter kept.
	r = t58.get(t, idB)
	if want := idB[:32] + "-n1.t58"; r.count != 2 || r.setCookie != want {
		t.Fatalf("session on dead n2: count=%d Set-Cookie=%q, want 2 and %s", r.count, r.setCookie, want)
	}
	checkMSMKey(t, a58, r.setCookie)

	// 5. A new session while n2 is down gets the failover node.
	if r = t58.get(t, ""); r.count != 1 || !regexp.MustCompile(`^[0-9A-F]{32}-n1\.t58$`).MatchString(r.setCookie) {
		t.Fatalf("new session with n2 down: count=%d id=%q, want 1 and <32 hex>-n1.t58", r.count, r.setCookie)
	}

	// The stand-in says what it is.
	if m.MSMStandIn {
		if n := strings.TrimSpace(RunOn(t, "t58", "journalctl -u e2e-tomcat --no-pager -o cat | grep -c 'clusterctl MSM TEST DOUBLE' || true")); n == "0" {
			t.Error("Tomcat's log on t58 lacks the MSM stand-in WARNING banner")
		}
	}
	t.Logf("checks done %v after start", time.Since(start).Round(100*time.Millisecond))
}

const (
	tomcatTestDir  = "/opt/e2e-tomcat" // not /usr/local/tomcat: clusterctl apply owns that
	tomcatTestUnit = "e2e-tomcat"
	tomcatTestPort = 8080
)

// tomcatHost is one lab host running the test Tomcat; failover is its MSM
// failover node (the memcached on the same host).
type tomcatHost struct {
	name, addr, failover string
}

// counterJSPInHost keeps a session counter and says who served it.
const counterJSPInHost = `<%@ page contentType="text/plain; charset=UTF-8" %><%
Integer c = (Integer) session.getAttribute("count");
c = c == null ? 1 : c + 1;
session.setAttribute("count", c);
%>count=<%= c %>
server=<%= application.getServerInfo() %>
local=<%= request.getLocalAddr() %>
`

func setupTomcatHost(t *testing.T, h tomcatHost, nodes string) {
	m := testLab.Artifacts
	dl := tomcatTestDir + "/dl"
	files := []string{m.TomcatTarball, m.TomcatSHA512, m.JDKTarball}
	files = append(files, m.MSMJars...)
	t0 := time.Now()
	for _, f := range files {
		UploadFile(t, h.name, filepath.Join(m.Dir, f), path.Join(dl, f), 0o644)
	}
	base := path.Join(tomcatTestDir, m.TomcatTopDir)
	cmd := "set -e; cd " + shellQuote(dl) +
		"; sha512sum -c --quiet " + shellQuote(m.TomcatSHA512) +
		"; tar -xzf " + shellQuote(m.JDKTarball) + " -C " + tomcatTestDir +
		"; tar -xzf " + shellQuote(m.TomcatTarball) + " -C " + tomcatTestDir
	for _, j := range m.MSMJars {
		cmd += "; cp " + shellQuote(j) + " " + shellQuote(base+"/lib/")
	}
	cmd += "; mkdir -p " + shellQuote(base+"/webapps/ROOT") + " " + shellQuote(base+"/logs") + " " + shellQuote(base+"/temp") + " " + shellQuote(base+"/work")
	RunOn(t, h.name, cmd)
	if v := RunOn(t, h.name, shellQuote(path.Join(tomcatTestDir, m.JDKTopDir, "bin/java"))+" -version 2>&1 | head -1"); !strings.Contains(v, "17") {
		t.Errorf("%s: java -version: %q", h.name, v)
	}
	t.Logf("%s: upload + unpack took %v", h.name, time.Since(t0).Round(100*time.Millisecond))

	WriteFileOn(t, h.name, base+"/conf/server.xml", []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="%d" address="%s" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="%s">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
`, tomcatTestPort, h.addr, h.name)), 0o644)
	WriteFileOn(t, h.name, base+"/conf/context.xml", []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <WatchedResource>WEB-INF/web.xml</WatchedResource>
  <Manager className="de.javakaffee.web.msm.MemcachedBackupSessionManager"
           memcachedNodes="%s" failoverNodes="%s"
           sticky="true" sessionBackupAsync="false" requestUriIgnorePattern=".*\.(ico|png|gif|jpg|css|js|txt)$"/>
</Context>
`, nodes, h.failover)), 0o644)
	WriteFileOn(t, h.name, base+"/webapps/ROOT/counter.jsp", []byte(counterJSPInHost), 0o644)
	WriteFileOn(t, h.name, base+"/webapps/ROOT/ready.txt", []byte("ready\n"), 0o644)

	// memcached through the lab's apt proxy, listening on the host's lab
	// address so the other host's Tomcat reaches it.
	t0 = time.Now()
	RunOn(t, h.name, "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q memcached")
	RunOn(t, h.name, "set -e; sed -i 's/^-l .*/-l "+h.addr+"/' /etc/memcached.conf; grep -qx -- '-l "+h.addr+"' /etc/memcached.conf; systemctl restart memcached")
	// Reachable from outside (the lab bridge), as the other host will need it.
	var v string
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if v, err = mcVersion(h.addr); err == nil && strings.HasPrefix(v, "VERSION 1.") {
			break
		}
	}
	if err != nil || !strings.HasPrefix(v, "VERSION 1.") {
		out, _, _ := TryRunOn(h.name, "systemctl status --no-pager memcached; ss -ltnp; cat /etc/memcached.conf")
		t.Fatalf("%s: memcached on %s:11211: %q, %v\n%s", h.name, h.addr, v, err, out)
	}
	t.Logf("%s: memcached installed and answering on %s:11211 after %v", h.name, h.addr, time.Since(t0).Round(100*time.Millisecond))
}

// startTomcatUnit runs catalina.sh as the transient unit e2e-tomcat, so the
// host's systemd owns the JVM and `systemctl stop` ends it.
func startTomcatUnit(t *testing.T, h tomcatHost) {
	t.Helper()
	m := testLab.Artifacts
	base := path.Join(tomcatTestDir, m.TomcatTopDir)
	cmd := "systemd-run --unit=" + tomcatTestUnit +
		" --property=SuccessExitStatus=143" +
		" --setenv=JAVA_HOME=" + shellQuote(path.Join(tomcatTestDir, m.JDKTopDir)) +
		" --setenv=JRE_HOME=" +
		" --setenv=CATALINA_HOME=" + shellQuote(base) +
		" --setenv=CATALINA_BASE=" + shellQuote(base) +
		// Small, quick JVMs: two hosts share 2 cores.
		" --setenv=" + shellQuote("CATALINA_OPTS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx192m") +
		" " + shellQuote(base+"/bin/catalina.sh") + " run"
	RunOn(t, h.name, cmd)
}

// waitTomcat waits until Tomcat serves a static file on the host's address
// (a bare TCP connect is not enough: the connector binds before the webapp
// is deployed).
func waitTomcat(t *testing.T, h tomcatHost, d time.Duration) {
	t.Helper()
	t0 := time.Now()
	url := fmt.Sprintf("http://%s:%d/ready.txt", h.addr, tomcatTestPort)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	var last string
	for time.Since(t0) < d {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(b) == "ready\n" {
				t.Logf("%s: Tomcat ready after %v", h.name, time.Since(t0).Round(100*time.Millisecond))
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if out, _, _ := TryRunOn(h.name, "systemctl is-active "+tomcatTestUnit); strings.TrimSpace(out) != "active" {
			t.Fatalf("%s: unit %s is %q", h.name, tomcatTestUnit, strings.TrimSpace(out))
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: Tomcat not serving %s after %v: %s", h.name, url, d, last)
}

type counterReply struct {
	count             int
	setCookie         string // JSESSIONID from Set-Cookie, "" if none
	server, localAddr string
}

// get requests counter.jsp straight from the test process over the lab
// bridge (no proxy, fresh connection), with the session cookie if id != "".
func (h tomcatHost) get(t *testing.T, id string) counterReply {
	t.Helper()
	req, err := http.NewRequest("GET", fmt.Sprintf("http://%s:%d/counter.jsp", h.addr, tomcatTestPort), nil)
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		req.Header.Set("Cookie", "JSESSIONID="+id)
	}
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", h.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: GET counter.jsp: %s\n%s", h.name, resp.Status, body)
	}
	var r counterReply
	fields := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			fields[k] = v
		}
	}
	if r.count, err = strconv.Atoi(fields["count"]); err != nil {
		t.Fatalf("%s: unexpected body %q", h.name, body)
	}
	r.server, r.localAddr = fields["server"], fields["local"]
	for _, ck := range resp.Cookies() {
		if ck.Name == "JSESSIONID" {
			r.setCookie = ck.Value
		}
	}
	t.Logf("%s: cookie %q -> count=%d Set-Cookie=%q", h.name, id, r.count, r.setCookie)
	return r
}

// checkMSMKey asserts that memcached on addr holds key id with MSM's layout
// (flags 0, version 2 header, the session id at byte offset 44).
func checkMSMKey(t *testing.T, addr, id string) {
	t.Helper()
	flags, v, ok, err := mcGetAt(addr, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("key %s missing in memcached %s:11211", id, addr)
	}
	if flags != 0 {
		t.Errorf("key %s: flags = %d, want 0", id, flags)
	}
	if len(v) < 44+len(id) || v[0] != 0 || v[1] != 2 {
		t.Fatalf("key %s: value does not start with MSM's version 2 header: % x", id, v[:min(len(v), 8)])
	}
	if n := int(v[42])<<8 | int(v[43]); n != len(id) || string(v[44:44+n]) != id {
		t.Errorf("key %s: session id at offset 44 = %q", id, v[44:44+min(n, len(v)-44)])
	}
}

func checkNoKey(t *testing.T, addr, id string) {
	t.Helper()
	_, _, ok, err := mcGetAt(addr, id)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Errorf("key %s still in memcached %s:11211", id, addr)
	}
}

// mcGetAt reads key from memcached at addr:11211 with the text protocol.
func mcGetAt(addr, key string) (flags int, value []byte, ok bool, err error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "11211"), 2*time.Second)
	if err != nil {
		return 0, nil, false, fmt.Errorf("memcached %s: %w", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "get %s\r\n", key); err != nil {
		return 0, nil, false, err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, nil, false, fmt.Errorf("memcached %s: %w", addr, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "END" {
		return 0, nil, false, nil
	}
	var k string
	var n int
	if _, err := fmt.Sscanf(line, "VALUE %s %d %d", &k, &flags, &n); err != nil || k != key {
		return 0, nil, false, fmt.Errorf("memcached %s: unexpected reply %q", addr, line)
	}
	value = make([]byte, n+2)
	if _, err := io.ReadFull(r, value); err != nil {
		return 0, nil, false, err
	}
	return flags, value[:n], true, nil
}

func mcVersion(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "11211"), 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "version\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// cleanupTomcatHost leaves the host as the lab made it: no unit, no
// memcached, no test dir. On failure it first shows Tomcat's log.
func cleanupTomcatHost(t *testing.T, h tomcatHost) {
	if t.Failed() {
		if out, _, _ := TryRunOn(h.name, "journalctl -u "+tomcatTestUnit+" --no-pager -o cat | tail -n 80"); out != "" {
			t.Logf("%s: journal of %s (tail):\n%s", h.name, tomcatTestUnit, out)
		}
	}
	steps := []string{
		"systemctl stop " + tomcatTestUnit + " 2>/dev/null; systemctl reset-failed " + tomcatTestUnit + " 2>/dev/null; true",
		"if dpkg -s memcached >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -q memcached && DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -q; fi",
		"rm -rf " + tomcatTestDir,
	}
	for _, s := range steps {
		out, errOut, err := TryRunOn(h.name, s)
		if err != nil {
			t.Errorf("%s: cleanup %q: %v\n%s%s", h.name, s, err, out, errOut)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "Purging ") {
				t.Logf("%s: cleanup: %s", h.name, l)
			}
		}
	}
	// Pristine again?
	check := "systemctl is-active " + tomcatTestUnit + " >/dev/null 2>&1 && echo unit-active; " +
		"dpkg -s memcached >/dev/null 2>&1 && echo memcached-installed; " +
		"test -e " + tomcatTestDir + " && echo dir-left; " +
		"pgrep -x java >/dev/null && echo java-running; " +
		"pgrep -x memcached >/dev/null && echo memcached-running; true"
	if out, errOut, err := TryRunOn(h.name, check); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("%s: not pristine after cleanup: %q %v %s", h.name, out, err, errOut)
	}
}

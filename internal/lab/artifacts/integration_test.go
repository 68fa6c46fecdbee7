package artifacts

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const counterJSP = `<%@ page contentType="text/plain; charset=UTF-8" %><%
Integer c = (Integer) session.getAttribute("count");
c = c == null ? 1 : c + 1;
session.setAttribute("count", c);
%>count=<%= c %>
`

// tomcatProc is an unpacked Tomcat from the tarball, run by catalina.sh.
type tomcatProc struct {
	port int
	base string
	cmd  *exec.Cmd
}

func startTomcat(t *testing.T, m Manifest, javaHome, jvmRoute, failoverNodes string, mc1, mc2 int) *tomcatProc {
	t.Helper()
	dir := t.TempDir()
	untar(t, filepath.Join(m.Dir, m.TomcatTarball), dir)
	base := filepath.Join(dir, m.TomcatTopDir)
	for _, j := range m.MSMJars {
		b, err := os.ReadFile(filepath.Join(m.Dir, j))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, "lib", j), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	write := func(rel, content string) {
		if err := os.WriteFile(filepath.Join(base, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("conf/server.xml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="%d" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="%s">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
`, port, jvmRoute))
	write("conf/context.xml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <WatchedResource>WEB-INF/web.xml</WatchedResource>
  <Manager className="de.javakaffee.web.msm.MemcachedBackupSessionManager"
           memcachedNodes="n1:127.0.0.1:%d,n2:127.0.0.1:%d" failoverNodes="%s"
           sticky="true" sessionBackupAsync="false" requestUriIgnorePattern=".*\.(ico|png|gif|jpg|css|js)$"/>
</Context>
`, mc1, mc2, failoverNodes))
	write("webapps/ROOT/counter.jsp", counterJSP)

	cmd := exec.Command(filepath.Join(base, "bin", "catalina.sh"), "run")
	cmd.Env = append(os.Environ(), "JAVA_HOME="+javaHome, "JRE_HOME=", "CATALINA_HOME="+base, "CATALINA_BASE="+base,
		// Small and quick JVMs: two of them share 2 cores with the test.
		"CATALINA_OPTS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx192m")
	log, err := os.Create(filepath.Join(base, "logs", "catalina.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill java with the script
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &tomcatProc{port: port, base: base, cmd: cmd}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(base, "logs", "catalina.out"))
			t.Logf("catalina.out of %s:\n%s", jvmRoute, tail(string(b), 6000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// get requests /counter.jsp with the session cookie (if any) and returns
// the counter and the JSESSIONID from Set-Cookie ("" if none).
func (p *tomcatProc) get(t *testing.T, sessionID string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(p.port)+"/counter.jsp", nil)
	if sessionID != "" {
		req.Header.Set("Cookie", "JSESSIONID="+sessionID)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET counter.jsp: %s\n%s", resp.Status, body)
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(body)), "count=")))
	if err != nil {
		t.Fatalf("unexpected body %q", body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "JSESSIONID" {
			return n, c.Value
		}
	}
	return n, ""
}

// checkStored asserts that memcached on port holds id with MSM's layout.
func checkStored(t *testing.T, port int, id string) {
	t.Helper()
	flags, v, ok := mcGet(t, port, id)
	if !ok {
		t.Fatalf("key %s missing in memcached :%d", id, port)
	}
	if flags != 0 {
		t.Errorf("flags = %d, want 0", flags)
	}
	if len(v) < 44+len(id) || v[0] != 0 || v[1] != 2 {
		t.Fatalf("value does not start with MSM version 2 header: % x", v[:min(len(v), 8)])
	}
	if n := int(v[42])<<8 | int(v[43]); n != len(id) || string(v[44:44+n]) != id {
		t.Errorf("session id at offset 44 = %q, want %q", v[44:44+n], id)
	}
}

func checkAbsent(t *testing.T, port int, id string) {
	t.Helper()
	if _, _, ok := mcGet(t, port, id); ok {
		t.Errorf("key %s still in memcached :%d", id, port)
	}
}

func TestStandInSessionFailover(t *testing.T) {
	start := time.Now()
	m := prepared(t)
	if !m.MSMStandIn {
		t.Fatal("expected the stand-in in a fresh artifacts dir")
	}
	jdkDir := t.TempDir()
	untar(t, filepath.Join(m.Dir, m.JDKTarball), jdkDir)
	javaHome := filepath.Join(jdkDir, m.JDKTopDir)

	mc1, mc2 := startMemcached(t), startMemcached(t)
	t1 := startTomcat(t, m, javaHome, "t1", "n1", mc1.port, mc2.port)
	t2 := startTomcat(t, m, javaHome, "t2", "n2", mc1.port, mc2.port)
	for _, p := range []*tomcatProc{t1, t2} {
		if err := waitPort(p.port, 45*time.Second); err != nil {
			t.Fatalf("Tomcat did not start: %v", err)
		}
	}
	t.Logf("setup (unpack, 2 memcached, 2 Tomcats) took %v", time.Since(start).Round(time.Millisecond))

	// 1. New session on t1: primary node n2, counter rises, stored in n2 only.
	n, id := t1.get(t, "")
	if !regexp.MustCompile(`^[0-9A-F]{32}-n2\.t1$`).MatchString(id) || n != 1 {
		t.Fatalf("first request: count=%d id=%q, want 1 and <hex>-n2.t1", n, id)
	}
	hex := id[:32]
	for want := 2; want <= 3; want++ {
		if n, _ = t1.get(t, id); n != want {
			t.Fatalf("count = %d, want %d", n, want)
		}
	}
	checkStored(t, mc2.port, id)
	checkAbsent(t, mc1.port, id)

	// 2. Tomcat failover to t2 (failoverNodes=n2): n2 is t2's failover node,
	// so the session moves to n1 and gets route t2; the old key goes away.
	n, id2 := t2.get(t, id)
	if n != 4 || id2 != hex+"-n1.t2" {
		t.Fatalf("t2 takeover: count=%d id=%q, want 4 and %s-n1.t2", n, id2, hex)
	}
	checkStored(t, mc1.port, id2)
	checkAbsent(t, mc2.port, id)

	// 3. Back to t1: n1 is t1's failover node, so back to n2 with route t1.
	n, id3 := t1.get(t, id2)
	if n != 5 || id3 != hex+"-n2.t1" {
		t.Fatalf("t1 takeover: count=%d id=%q, want 5 and %s-n2.t1", n, id3, hex)
	}
	checkStored(t, mc2.port, id3)
	checkAbsent(t, mc1.port, id2)

	// 4. memcached n2 dies: after the availability TTL (1 s) the next request
	// relocates the session to the failover node n1, counter intact.
	mc2.kill()
	time.Sleep(1200 * time.Millisecond)
	n, id4 := t1.get(t, id3)
	if n != 6 || id4 != hex+"-n1.t1" {
		t.Fatalf("memcached failover: count=%d id=%q, want 6 and %s-n1.t1", n, id4, hex)
	}
	checkStored(t, mc1.port, id4)

	// 5. t2 takes it over again: n1 is a regular node for t2, only the route changes.
	n, id5 := t2.get(t, id4)
	if n != 7 || id5 != hex+"-n1.t2" {
		t.Fatalf("t2 takeover after n2 died: count=%d id=%q, want 7 and %s-n1.t2", n, id5, hex)
	}
	checkStored(t, mc1.port, id5)
	checkAbsent(t, mc1.port, id4)

	b, _ := os.ReadFile(filepath.Join(t1.base, "logs", "catalina.out"))
	if !strings.Contains(string(b), "WARNING") || !strings.Contains(string(b), "clusterctl MSM TEST DOUBLE") {
		t.Error("Tomcat log lacks the stand-in WARNING banner")
	}
	t.Logf("whole test took %v", time.Since(start).Round(time.Millisecond))
}

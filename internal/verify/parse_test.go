package verify

import (
	"net/netip"
	"strings"
	"testing"
)

// Recorded `chronyc -n tracking` outputs (chrony 4.3, Debian 12).
const (
	trackingClient = `Reference ID    : 0A320008 (10.250.0.8)
Stratum         : 11
Ref time (UTC)  : Wed Nov 25 10:15:31 2026
System time     : 0.000001234 seconds fast of NTP time
Last offset     : +0.000000969 seconds
RMS offset      : 0.000000969 seconds
Frequency       : 3.141 ppm slow
Residual freq   : +0.002 ppm
Skew            : 0.227 ppm
Root delay      : 0.000071 seconds
Root dispersion : 0.000153 seconds
Update interval : 2.0 seconds
Leap status     : Normal
`
	trackingUnsynced = `Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds fast of NTP time
Leap status     : Not synchronised
`
	trackingLocal = `Reference ID    : 7F7F0101 ()
Stratum         : 10
Ref time (UTC)  : Wed Nov 25 10:15:31 2026
Leap status     : Normal
`
)

func TestTimeSync(t *testing.T) {
	client, _ := parseChronyTracking(trackingClient)
	unsynced, _ := parseChronyTracking(trackingUnsynced)
	local, _ := parseChronyTracking(trackingLocal)
	if !client.Synced() || client.RefName != "10.250.0.8" || client.Stratum != 11 || unsynced.Synced() || local.Synced() || !local.Local() {
		t.Fatalf("parsed %+v %+v %+v", client, unsynced, local)
	}
	if _, err := parseChronyTracking("506 Cannot talk to daemon\n"); err == nil {
		t.Error("garbage parsed")
	}
	cases := []struct {
		name              string
		active            bool
		tr                chronyTracking
		serves, listening bool
		want              Status
		reason            string
	}{
		{"synced client", true, client, false, false, StatusOK, "synchronised to 10.250.0.8 (stratum 11)"},
		{"unsynced client", true, unsynced, false, false, StatusFailed, "not synchronised"},
		{"client on local clock", true, local, false, false, StatusFailed, "not synchronised"},
		{"stopped", false, client, false, false, StatusFailed, "chrony is not running"},
		{"server on own clock", true, local, true, true, StatusOK, "from its own clock (local stratum 10)"},
		{"server synced upstream", true, client, true, true, StatusOK, "serving time on udp/123, synchronised"},
		{"server not listening", true, local, true, false, StatusFailed, "does not listen on udp/123"},
		{"server with nothing", true, unsynced, true, true, StatusFailed, "no source selected"},
	}
	for _, c := range cases {
		st, why := judgeTimeSync(c.active, c.tr, nil, c.serves, c.listening)
		if st != c.want || !strings.Contains(why, c.reason) {
			t.Errorf("%s: %s %q, want %s %q", c.name, st, why, c.want, c.reason)
		}
	}
}

func TestListeners(t *testing.T) {
	addr := netip.MustParseAddr("10.250.0.58")
	// `ss -Hltn` on a host whose memcached is bound to loopback only.
	loopback := "LISTEN 0      1024       127.0.0.1:11211      0.0.0.0:*          \nLISTEN 0      128          0.0.0.0:22         0.0.0.0:*          \nLISTEN 0      128             [::]:22            [::]:*          \n"
	st, why := judgeListens(parseListeners(loopback, 11211), addr, 11211)
	if st != StatusFailed || !strings.Contains(why, "listens only on 127.0.0.1:11211, not on 10.250.0.58") || !strings.Contains(why, "-l 10.250.0.58") {
		t.Errorf("loopback only: %s %q", st, why)
	}
	good := "LISTEN 0      1024     10.250.0.58:11211      0.0.0.0:*\nLISTEN 0 1024 127.0.0.1:11211 0.0.0.0:*\n"
	if st, why := judgeListens(parseListeners(good, 11211), addr, 11211); st != StatusOK || !strings.Contains(why, "10.250.0.58:11211, 127.0.0.1:11211") {
		t.Errorf("cluster address: %s %q", st, why)
	}
	for _, wild := range []string{"LISTEN 0 1024 0.0.0.0:11211 0.0.0.0:*", "tcp LISTEN 0 1024 *:11211 *:*", "LISTEN 0 1024 [::]:11211 [::]:*"} {
		if st, why := judgeListens(parseListeners(wild, 11211), addr, 11211); st != StatusOK {
			t.Errorf("%q: %s %q", wild, st, why)
		}
	}
	if st, why := judgeListens(parseListeners("LISTEN 0 128 0.0.0.0:22 0.0.0.0:*", 11211), addr, 11211); st != StatusFailed || !strings.Contains(why, "nothing listens on tcp port 11211") {
		t.Errorf("none: %s %q", st, why)
	}
	// chronyd serving: `ss -Hlun` says UNCONN.
	if ls := parseListeners("UNCONN 0 0 0.0.0.0:123 0.0.0.0:*\nUNCONN 0 0 127.0.0.1:323 0.0.0.0:*\n", 123); !listensOn(ls, addr) {
		t.Errorf("udp 123: %v", ls)
	}
}

func TestEtcHosts(t *testing.T) {
	names := []string{"t58.shone.cn", "t58", "t68.shone.cn", "t68"}
	want := map[string]string{"t58.shone.cn": "10.0.0.58", "t58": "10.0.0.58", "t68.shone.cn": "10.0.0.68", "t68": "10.0.0.68"}
	out := "t58.shone.cn 10.0.0.58 10.0.0.58 10.0.0.58\nt58 127.0.1.1 10.0.0.58\nt68.shone.cn 10.0.0.68\nt68 10.0.0.68\n"
	if st, why := judgeEtcHosts(names, want, parseResolved(out)); st != StatusOK {
		t.Errorf("good: %s %q", st, why)
	}
	out = "t58.shone.cn 10.0.0.58\nt58 10.0.0.58\nt68.shone.cn 192.168.250.68\nt68\n"
	st, why := judgeEtcHosts(names, want, parseResolved(out))
	if st != StatusFailed || !strings.Contains(why, "t68.shone.cn resolves to 192.168.250.68, not 10.0.0.68") || !strings.Contains(why, "t68 does not resolve") {
		t.Errorf("bad: %s %q", st, why)
	}
}

const contextXML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- managed by clusterctl -->
<Context>
    <WatchedResource>WEB-INF/web.xml</WatchedResource>
    <Manager className="de.javakaffee.web.msm.MemcachedBackupSessionManager"
             memcachedNodes="n1:10.0.0.58:11211,n2:10.0.0.68:11211"
             failoverNodes="%s"
             sticky="true"
             requestUriIgnorePattern=".*\.(ico|png)$"/>
</Context>`

func TestContextXML(t *testing.T) {
	nodes := "n1:10.0.0.58:11211,n2:10.0.0.68:11211"
	m, err := parseContextManager([]byte(strings.Replace(contextXML, "%s", "n1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if st, why := judgeContext("context.xml", m, nodes, "n1", true, "t58"); st != StatusOK {
		t.Errorf("good: %s %q", st, why)
	}
	// Space-separated, reordered: the same for MSM.
	m.MemcachedNodes = "n2:10.0.0.68:11211 n1:10.0.0.58:11211"
	if st, why := judgeContext("context.xml", m, nodes, "n1", true, "t58"); st != StatusOK {
		t.Errorf("reordered: %s %q", st, why)
	}
	m, _ = parseContextManager([]byte(strings.Replace(contextXML, "%s", "n2", 1)))
	st, why := judgeContext("/usr/local/tomcat/conf/context.xml", m, nodes, "n1", true, "t58")
	if st != StatusFailed || !strings.Contains(why, `failoverNodes="n2", want "n1" (t58's own memcached`) {
		t.Errorf("wrong failover: %s %q", st, why)
	}
	if _, err := parseContextManager([]byte("<Context><Manager className=\"org.apache.catalina.session.StandardManager\"/></Context>")); err == nil || !strings.Contains(err.Error(), "no <Manager") {
		t.Errorf("no MSM manager: %v", err)
	}
	if _, err := parseContextManager([]byte("<Context><Manager")); err == nil || !strings.Contains(err.Error(), "not valid XML") {
		t.Errorf("broken XML: %v", err)
	}
}

// Real MSM 2.3.2's start block (MemcachedSessionService.startInternal) and
// the lab stand-in's line.
const (
	realMSMLog = `25-Nov-2026 10:15:31.000 INFO [main] de.javakaffee.web.msm.MemcachedSessionService.startInternal MemcachedSessionService starts initialization... (configured nodes definition n1:10.0.0.58:11211,n2:10.0.0.68:11211, failover nodes n1)
25-Nov-2026 10:15:31.500 INFO [main] de.javakaffee.web.msm.MemcachedSessionService.startInternal --------
- MemcachedSessionService finished initialization:
- sticky: true
- operation timeout: 1000
- node ids: [n2]
- failover node ids: [n1]
- storage key prefix: null
- locking mode: null (expiration: 5s)
--------`
	standInLog = `25-Nov-2026 10:15:31.000 WARNING [main] de.javakaffee.web.msm.MemcachedSessionService.startInternal clusterctl MSM test double -- NOT memcached-session-manager
25-Nov-2026 10:15:31.100 INFO [main] de.javakaffee.web.msm.MemcachedSessionService.startInternal clusterctl MSM test double started: sticky, node ids [n2], failover node ids [n1], storage key prefix '', backup sync`
	missingJarLog = `25-Nov-2026 10:15:31.000 SEVERE [main] org.apache.catalina.startup.ContextConfig.processContextConfig Parse error in context.xml
java.lang.ClassNotFoundException: de.javakaffee.web.msm.MemcachedBackupSessionManager
25-Nov-2026 10:15:31.200 SEVERE [main] org.apache.catalina.core.StandardContext.startInternal Context [/probe] startup failed due to previous errors`
)

func TestMSMLog(t *testing.T) {
	primary, failover := []string{"n2"}, []string{"n1"}
	for name, log := range map[string]string{"real": realMSMLog, "stand-in": standInLog} {
		s := parseMSMLog(log)
		if st, why := judgeMSMStart(s, primary, failover); st != StatusOK || !strings.Contains(why, "node ids [n2], failover node ids [n1]") {
			t.Errorf("%s: %s %q (%+v)", name, st, why, s)
		}
		// A Tomcat still running with another failover node than configured.
		if st, why := judgeMSMStart(s, []string{"n1"}, []string{"n2"}); st != StatusFailed || !strings.Contains(why, "Tomcat has not been restarted") {
			t.Errorf("%s, other ids: %s %q", name, st, why)
		}
	}
	if s := parseMSMLog(standInLog); !s.StandIn {
		t.Error("stand-in not recognised")
	}
	st, why := judgeMSMStart(parseMSMLog(missingJarLog), primary, failover)
	if st != StatusFailed || !strings.Contains(why, "did not start") || !strings.Contains(why, "Context [/probe] startup failed") {
		t.Errorf("missing jars: %s %q", st, why)
	}
	if st, why := judgeMSMStart(parseMSMLog("INFO Server startup in [1234] milliseconds"), primary, failover); st != StatusFailed || !strings.Contains(why, "no MSM start line") {
		t.Errorf("no MSM: %s %q", st, why)
	}
}

func TestJars(t *testing.T) {
	inv := labInventory(0)
	lib := "/usr/local/tomcat/lib"
	all := []string{"catalina.jar", "memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar", "spymemcached-2.12.3.jar"}
	if st, why := judgeJars(lib, all, requiredJars(inv)); st != StatusOK {
		t.Errorf("all there: %s %q", st, why)
	}
	// The Tomcat 8.5 module on Tomcat 9 does not count.
	st, why := judgeJars(lib, []string{"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc8-2.3.2.jar"}, requiredJars(inv))
	if st != StatusFailed || !strings.Contains(why, "missing in /usr/local/tomcat/lib: memcached-session-manager-tc9-2.3.2.jar, spymemcached-2.12.x.jar") {
		t.Errorf("missing: %s %q", st, why)
	}
	inv.MSM.Serializer = "kryo"
	if st, why := judgeJars(lib, all, requiredJars(inv)); st != StatusFailed || !strings.Contains(why, "msm-kryo-serializer-2.3.2.jar") {
		t.Errorf("kryo: %s %q", st, why)
	}
}

func TestStorageKey(t *testing.T) {
	id := hexA + "-n2.t58"
	for prefix, want := range map[string]string{
		"":                   id,
		"webappVersion":      id,
		"static:x,context":   "x:/probe_" + id,
		"host,webappVersion": "localhost_" + id,
		// sha256("localhost") = 49960de5..., sha256("/probe") = 87d0b7f8...
		"host.hash,context.hash,webappVersion": "49960de5:87d0b7f8_" + id,
	} {
		if got, err := storageKeyFunc(prefix)(id); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", prefix, got, err, want)
		}
	}
	if _, err := storageKeyFunc("path")(id); err == nil {
		t.Error("unknown token: no error")
	}
}

// MSM's own StorageKeyFormat javadoc gives host "hst" -> e93c085e and
// context "ctxt" -> 45e6345f; msmHash must agree with MSM.
func TestMSMHashMatchesMSMsExamples(t *testing.T) {
	for in, want := range map[string]string{"hst": "e93c085e", "ctxt": "45e6345f"} {
		if got := msmHash(in); got != want {
			t.Errorf("msmHash(%q) = %q, want %q", in, got, want)
		}
	}
}

// A Tomcat restarted moments ago logs to the journal but has no MSM line
// yet: the log file's older start (another config) must not speak for it.
func TestTomcatLogSource(t *testing.T) {
	starting := "25-Nov-2026 10:20:00.000 INFO [main] org.apache.catalina.startup.VersionLoggerListener.log Server version name:   Apache Tomcat/9.0.70\n"
	old := "Starting service [Catalina]\n" + standInLog
	s := parseMSMLog(pickTomcatLog(starting, old))
	if st, why := judgeMSMStart(s, []string{"n2"}, []string{"n1"}); st != StatusFailed || !strings.Contains(why, "no MSM start line") {
		t.Errorf("starting Tomcat judged by the old file: %s %q", st, why)
	}
	// Nothing in the journal: the file is all there is.
	if got := pickTomcatLog("", old); got != old {
		t.Errorf("empty journal: %q", got)
	}
}

package verify

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/memcache/memcachetest"
	"github.com/clusterctl/clusterctl/internal/remote"
)

func okRes(out string) remote.Result { return remote.Result{Stdout: out} }

// healthyHost scripts host h of labInventory as apply leaves it.
func healthyHost(inv *inventory.Inventory, h inventory.Host, tunnels map[string]string) *scriptedConn {
	var getent strings.Builder
	for _, o := range inv.Hosts {
		fmt.Fprintf(&getent, "%s %s %s\n%s %s\n", o.FQDN, o.Address, o.Address, o.Name, o.Address)
	}
	c := &scriptedConn{name: h.Name, tunnels: tunnels, files: map[string]string{}, answers: map[string]remote.Result{
		"hostname":         okRes(h.FQDN + "\n"),
		"timedatectl show": okRes("Asia/Shanghai\n"),
		"systemctl is-active chrony.service chronyd.service": okRes("active\nactive\n"),
		"chronyc -n tracking":                                okRes(trackingClient),
		"for n in":                                           okRes(getent.String()),
		"systemctl is-active ":                               okRes("active\n"),
	}}
	if h.Has(inventory.RoleProxy) {
		c.answers["chronyc -n tracking"] = okRes(trackingLocal)
		c.answers["ss -Hlun"] = okRes("UNCONN 0 0 0.0.0.0:123 0.0.0.0:*\n")
		c.answers["nginx -t"] = okRes("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n")
		c.answers["req() {"] = okRes("") // msmhealth's takeover script: every pair passed
	}
	if h.Has(inventory.RoleTomcat) {
		c.answers["'/usr/local/jdk/bin/java' -version"] = okRes("openjdk version \"17.0.13\" 2024-10-15\nOpenJDK Runtime Environment\n")
		c.answers["pid=$(systemctl show -p MainPID"] = okRes("pid 4242\n/usr/local/jdk-17.0.13/bin/java\n/usr/local/jdk-17.0.13/bin/java\n")
		c.answers["ls -1 '/usr/local/tomcat/lib'"] = okRes("catalina.jar\nmemcached-session-manager-2.3.2.jar\nmemcached-session-manager-tc9-2.3.2.jar\nspymemcached-2.12.3.jar\n")
		own, other := "n1", "n2"
		if h.Name == "t68" {
			own, other = "n2", "n1"
		}
		c.files["/usr/local/tomcat/conf/context.xml"] = strings.Replace(contextXML, "%s", own, 1)
		c.answers["id=$(systemctl show"] = okRes(strings.NewReplacer("[n2]", "["+other+"]", "[n1]", "["+own+"]").Replace(standInLog) + "\n" + logMarker + "\n")
	}
	if h.Has(inventory.RoleMemcached) {
		c.answers["ss -Hltn"] = okRes(fmt.Sprintf("LISTEN 0 1024 %s:11211 0.0.0.0:*\nLISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", h.Address))
	}
	return c
}

// fakeCluster: real memcached and HTTP servers on loopback behind the
// tunnels of scripted hosts.
func fakeCluster(t *testing.T, inv *inventory.Inventory) map[string]*scriptedConn {
	t.Helper()
	mc := memcachetest.Start(t)
	tomcat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }))
	t.Cleanup(tomcat.Close)
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := hexA + "-n2.t58"
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: id})
		fmt.Fprintf(w, `{"host":"t58","route":"t58","hostname":"t58.shone.cn","session":"%s","counter":1,"new":true}`+"\n", id)
	}))
	t.Cleanup(probe.Close)
	tunnels := map[string]string{"127.0.0.1:80": probe.Listener.Addr().String()}
	for _, h := range inv.Hosts[1:] {
		tunnels[net.JoinHostPort(h.Address, "11211")] = mc
		tunnels[net.JoinHostPort(h.Address, "8080")] = tomcat.Listener.Addr().String()
	}
	conns := map[string]*scriptedConn{}
	for _, h := range inv.Hosts {
		conns[h.Name] = healthyHost(inv, h, tunnels)
	}
	return conns
}

func runHealth(t *testing.T, inv *inventory.Inventory, conns map[string]*scriptedConn, errs map[string]error) (Summary, *Collector) {
	t.Helper()
	var targets []Target
	for _, h := range inv.Hosts {
		if err := errs[h.Name]; err != nil {
			targets = append(targets, Target{Host: h, Err: err})
		} else {
			targets = append(targets, Target{Host: h, Conn: conns[h.Name]})
		}
	}
	col := &Collector{}
	s, err := Run(ctxT(t), inv, targets, Options{Parallel: 3, Timing: fastTiming}, col)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range conns {
		if len(c.unknown) > 0 {
			t.Errorf("%s: unscripted commands: %q", name, c.unknown)
		}
		for _, cmd := range c.ran {
			if strings.Contains(cmd, "systemctl stop") || strings.Contains(cmd, "systemctl start") || strings.Contains(cmd, "restart") {
				t.Errorf("%s: health check changed something: %q", name, cmd)
			}
		}
	}
	return s, col
}

// Every health check, per role, on a healthy cluster: every check ok.
func TestHealthAllOK(t *testing.T) {
	inv := labInventory(0)
	s, col := runHealth(t, inv, fakeCluster(t, inv), nil)
	if s.Failed() {
		t.Fatalf("failures: %v\n%+v", s.FailedNames(), col.Results)
	}
	want := map[string][]string{
		"proxy": {CheckSSH, CheckHostname, CheckTimezone, CheckTimeSync, CheckEtcHosts, CheckNginxActive, CheckNginxConfig, CheckProxyRoute},
		"t58": {CheckSSH, CheckHostname, CheckTimezone, CheckTimeSync, CheckEtcHosts, CheckJava, CheckTomcatActive, CheckTomcatPort, CheckTomcatJava,
			CheckMSMJars, CheckMSMContext, CheckMSMStarted, CheckMemcachedActive, CheckMemcachedListens, CheckMemcachedFrom + "t68"},
		"t68":     {CheckMemcachedFrom + "t58"},
		DrillHost: {CheckTakeover},
	}
	for host, checks := range want {
		for _, c := range checks {
			r, ok := col.Find(host, c)
			if !ok || r.Status != StatusOK {
				t.Errorf("%s %s: %+v (found %v)", host, c, r, ok)
			}
		}
	}
	if r, _ := col.Find("proxy", CheckTimeSync); !strings.Contains(r.Reason, "serving time") {
		t.Errorf("proxy serves time: %q", r.Reason)
	}
	if r, _ := col.Find("t58", CheckTomcatPort); !strings.Contains(r.Reason, "(from proxy)") {
		t.Errorf("tomcat port is checked from where nginx connects: %q", r.Reason)
	}
	if s.Count(StatusOK) != len(s.Results) || len(s.Results) != 8+15+15+1 {
		t.Errorf("%d results, %d ok", len(s.Results), s.Count(StatusOK))
	}
}

// One host unreachable over SSH: reported once, every other host still
// checked; checks that need it are skipped, not failed twice.
func TestHealthUnreachableHost(t *testing.T) {
	inv := labInventory(0)
	s, col := runHealth(t, inv, fakeCluster(t, inv), map[string]error{"t68": errors.New("t68: connect 10.0.0.68:22: no route to host")})
	if got := s.FailedNames(); len(got) != 1 || got[0] != "t68 ssh" {
		t.Fatalf("failed = %v, want [t68 ssh]", got)
	}
	if r, _ := col.Find("t68", CheckSSH); !strings.Contains(r.Reason, "no route to host") {
		t.Errorf("ssh reason %q", r.Reason)
	}
	if r, _ := col.Find("t58", CheckMemcachedFrom+"t68"); r.Status != StatusSkipped || !strings.Contains(r.Reason, "t68 is unreachable") {
		t.Errorf("t58 from t68: %+v", r)
	}
	if r, ok := col.Find("t58", CheckMSMStarted); !ok || r.Status != StatusOK {
		t.Errorf("t58 not checked: %+v", r)
	}
}

// Faults the e2e injects, at unit level: each fails the right check.
func TestHealthFaults(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(conns map[string]*scriptedConn)
		host   string
		check  string
		reason string
	}{
		{"memcached on loopback", func(c map[string]*scriptedConn) {
			c["t68"].answers["ss -Hltn"] = okRes("LISTEN 0 1024 127.0.0.1:11211 0.0.0.0:*\n")
			delete(c["t58"].tunnels, "10.0.0.68:11211") // what the bind does to the other host
		}, "t68", CheckMemcachedListens, "listens only on 127.0.0.1:11211"},
		{"memcached on loopback, seen from t58", func(c map[string]*scriptedConn) {
			delete(c["t58"].tunnels, "10.0.0.68:11211")
		}, "t68", CheckMemcachedFrom + "t58", "t58 cannot use memcached at 10.0.0.68:11211"},
		{"wrong failoverNodes", func(c map[string]*scriptedConn) {
			c["t58"].files["/usr/local/tomcat/conf/context.xml"] = strings.Replace(contextXML, "%s", "n2", 1)
		}, "t58", CheckMSMContext, `failoverNodes="n2", want "n1"`},
		{"jars missing", func(c map[string]*scriptedConn) {
			c["t68"].answers["ls -1 '/usr/local/tomcat/lib'"] = okRes("catalina.jar\n")
		}, "t68", CheckMSMJars, "missing in /usr/local/tomcat/lib: memcached-session-manager-2.3.2.jar"},
		{"tomcat stopped", func(c map[string]*scriptedConn) {
			c["t58"].answers["systemctl is-active 'tomcat.service'"] = remote.Result{Stdout: "inactive\n", ExitCode: 3}
		}, "t58", CheckTomcatActive, "tomcat.service is inactive"},
		{"tomcat on another java", func(c map[string]*scriptedConn) {
			c["t68"].answers["pid=$(systemctl show -p MainPID"] = okRes("pid 4242\n/usr/lib/jvm/java-11-openjdk-amd64/bin/java\n/usr/local/jdk-17.0.13/bin/java\n")
		}, "t68", CheckTomcatJava, "Tomcat runs /usr/lib/jvm/java-11-openjdk-amd64/bin/java, not /usr/local/jdk/bin/java"},
		{"nginx config broken", func(c map[string]*scriptedConn) {
			c["proxy"].answers["nginx -t"] = remote.Result{ExitCode: 1, Stdout: "nginx: [emerg] unknown directive \"stiky\" in /etc/nginx/nginx.conf:40\nnginx: configuration file /etc/nginx/nginx.conf test failed\n"}
		}, "proxy", CheckNginxConfig, "test failed"},
		{"hostname", func(c map[string]*scriptedConn) { c["t58"].answers["hostname"] = okRes("localhost\n") }, "t58", CheckHostname, `host name is "localhost", want "t58.shone.cn"`},
		{"chrony unsynced", func(c map[string]*scriptedConn) { c["t68"].answers["chronyc -n tracking"] = okRes(trackingUnsynced) }, "t68", CheckTimeSync, "not synchronised"},
		{"msm degraded", func(c map[string]*scriptedConn) {
			c["proxy"].answers["req() {"] = remote.Result{ExitCode: 1,
				Stdout: "FAIL t58 -> t68: t58 stored its new session 0A-n1.t58 on its failover node n1 (it cannot reach a regular node)\n"}
		}, DrillHost, CheckTakeover, "t58 stored its new session 0A-n1.t58 on its failover node n1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv := labInventory(0)
			conns := fakeCluster(t, inv)
			tc.break_(conns)
			s, col := runHealth(t, inv, conns, nil)
			r, _ := col.Find(tc.host, tc.check)
			if r.Status != StatusFailed || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("%s %s: %s %q, want failed with %q", tc.host, tc.check, r.Status, r.Reason, tc.reason)
			}
			if !s.Failed() {
				t.Error("summary not failed")
			}
		})
	}
}

// The time-server rule, put through apply's code and verify's: with
// ntp_servers written as PROXY.shone.cn. (upper case, trailing dot) both
// find that the proxy serves the two Tomcat hosts. They used to disagree:
// apply made the proxy serve 2 clients, verify decided it served nobody
// and skipped its udp/123 check.
func TestTimeServerRuleAgreesWithApply(t *testing.T) {
	data, err := os.ReadFile("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "ntp_servers: [ntp1.aliyun.com]", "ntp_servers: [PROXY.shone.cn.]", 1)
	inv, err := inventory.Parse("../../inventory.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRun(inv, nil, Timing{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	proxy, _ := inv.Host("proxy")
	if !r.servesTime(proxy) {
		t.Error("verify: the proxy serves nobody")
	}
	var names []string
	for _, c := range inv.TimeClients(proxy) { // what apply's chrony.conf renders
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "t58,t68" {
		t.Errorf("apply: the proxy serves %q, want t58,t68", names)
	}
}

// Every app's health is asked on every Tomcat (from the proxy, as nginx
// asks it) and through every proxy; a Tomcat whose app does not answer
// 2xx fails its check, naming the path and the answer.
func TestHealthAppsOnEveryTomcatAndProxy(t *testing.T) {
	inv := labInventory(0)
	inv.Apps = []inventory.App{{Name: "shop", WAR: "shop-2.war", Path: "/shop", Health: "/health"}}
	conns := fakeCluster(t, inv)
	serve := func(code int) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/shop/health" {
				w.WriteHeader(404)
				return
			}
			w.WriteHeader(code)
		}))
		t.Cleanup(s.Close)
		return s.Listener.Addr().String()
	}
	tunnels := conns["proxy"].tunnels
	tunnels["10.0.0.58:8080"] = serve(200)
	tunnels["10.0.0.68:8080"] = serve(503)
	s, col := runHealth(t, inv, conns, nil)
	if got := s.FailedNames(); len(got) != 1 || got[0] != "t68 app shop" {
		t.Fatalf("failed = %v, want only t68's app check", got)
	}
	if r, _ := col.Find("t68", CheckApp+"shop"); !strings.Contains(r.Reason, "GET /shop/health at 10.0.0.68:8080 (from proxy): HTTP/1.0 503") || !strings.Contains(r.Reason, "shop-2.war") {
		t.Errorf("t68 app check: %q", r.Reason)
	}
	for _, h := range []string{"t58", "proxy"} {
		if r, ok := col.Find(h, CheckApp+"shop"); !ok || r.Status != StatusOK {
			t.Errorf("%s app check: %+v (found %v)", h, r, ok)
		}
	}
}

// The running JVM's own command line must carry the inventory's JVM
// options: a Tomcat started before they were set fails, naming them.
func TestHealthJVMOptionsFromTheRunningProcess(t *testing.T) {
	inv := labInventory(0)
	inv.Tomcat.HeapMB = 512
	conns := fakeCluster(t, inv)
	jvm := "pid 4242\n/usr/local/jdk-17.0.13/bin/java\n/usr/local/jdk-17.0.13/bin/java\n"
	conns["t58"].answers["pid=$(systemctl show -p MainPID"] = okRes(jvm + "/usr/local/jdk-17.0.13/bin/java\n-Xms512m\n-Xmx512m\norg.apache.catalina.startup.Bootstrap\nstart\n")
	conns["t68"].answers["pid=$(systemctl show -p MainPID"] = okRes(jvm + "/usr/local/jdk-17.0.13/bin/java\norg.apache.catalina.startup.Bootstrap\nstart\n")
	_, col := runHealth(t, inv, conns, nil)
	if r, _ := col.Find("t58", CheckTomcatJava); r.Status != StatusOK || !strings.Contains(r.Reason, "-Xmx512m") {
		t.Errorf("t58 runs with the options: %+v", r)
	}
	if r, _ := col.Find("t68", CheckTomcatJava); r.Status != StatusFailed || !strings.Contains(r.Reason, "lacks -Xms512m -Xmx512m") {
		t.Errorf("t68 runs without them: %+v", r)
	}
}

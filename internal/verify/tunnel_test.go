package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/memcache/memcachetest"
	"github.com/clusterctl/clusterctl/internal/sshtest"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// sshClient starts an sshtest server and logs in to it with the real
// transport, as `clusterctl verify` does.
func sshClient(t *testing.T, name string, opts ...sshtest.Option) (*transport.Client, *sshtest.Server) {
	t.Helper()
	key := sshtest.NewClientKey(t, "")
	srv := sshtest.Start(t, append([]sshtest.Option{sshtest.WithAuthorizedKey(key.Public)}, opts...)...)
	c, err := transport.Dial(ctxT(t), transport.Config{
		Host: name, Address: "127.0.0.1", Port: srv.Port(), User: "root", KeyFiles: []string{key.Path},
		KnownHostsFile: srv.WriteKnownHosts(t), ConnectTimeout: 5 * time.Second, KeepaliveInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, srv
}

// A memcached bound to 127.0.0.1 answers on loopback but not on another
// address of the host: reached through the OTHER Tomcat host's SSH
// connection, the cluster address is refused, and the check says so.
func TestMemcachedReachabilityThroughSSH(t *testing.T) {
	mc := memcachetest.Start(t) // bound to 127.0.0.1 only
	_, port, _ := net.SplitHostPort(mc)
	inv := labInventory(0)
	inv.Hosts[1].Address = "127.0.0.1" // t58: the memcached's own address
	inv.Hosts[2].Address = "127.0.0.2" // t68: loopback too, but memcached is not bound to it
	fmt.Sscan(port, &inv.Memcached.Port)

	c58, srv58 := sshClient(t, "t58")
	c68, srv68 := sshClient(t, "t68")
	r, err := newRun(inv, []Target{{Host: inv.Hosts[1], Conn: c58}, {Host: inv.Hosts[2], Conn: c68}}, fastTiming, &Collector{})
	if err != nil {
		t.Fatal(err)
	}
	if st, why := r.checkMemcachedFrom(ctxT(t), inv.Hosts[1], "t68"); st != StatusOK || !strings.Contains(why, "answers version 1.") {
		t.Errorf("t58's memcached from t68: %s %q", st, why)
	}
	st, why := r.checkMemcachedFrom(ctxT(t), inv.Hosts[2], "t58")
	if st != StatusFailed || !strings.Contains(why, "t58 cannot use memcached at 127.0.0.2:"+port) || !strings.Contains(why, "connection refused") || !strings.Contains(why, `"memcached listens" check of t68`) {
		t.Errorf("t68's memcached from t58: %s %q", st, why)
	}
	// Each went through the named host's own SSH connection.
	if f := srv68.Forwards(); len(f) != 1 || f[0] != "127.0.0.1:"+port {
		t.Errorf("t68's server forwarded %v", f)
	}
	if f := srv58.Forwards(); len(f) != 1 || f[0] != "127.0.0.2:"+port {
		t.Errorf("t58's server forwarded %v", f)
	}
}

// The drill's memcached reads go through the tunnel too.
func TestLiveEnvKeyThroughSSH(t *testing.T) {
	mc := memcachetest.Start(t)
	host, port, _ := net.SplitHostPort(mc)
	id := hexA + "-n2.t58"
	memcachetest.Set(t, mc, id, 0, []byte("header"+id))
	inv := labInventory(0)
	c, _ := sshClient(t, "t58")
	r, _ := newRun(inv, []Target{{Host: inv.Hosts[1], Conn: c}}, fastTiming, &Collector{})
	env := &liveEnv{r: r}
	var p int
	fmt.Sscan(port, &p)
	v, found, err := env.Key(ctxT(t), "t58", nodeAt(host, p), id)
	if err != nil || !found || !strings.Contains(string(v), id) {
		t.Fatalf("Key = %q %v %v", v, found, err)
	}
	if _, found, err := env.Key(ctxT(t), "t58", nodeAt(host, p), hexA+"-n1.t58"); err != nil || found {
		t.Fatalf("missing key: %v %v", found, err)
	}
	if _, _, err := env.Key(ctxT(t), "t68", nodeAt(host, p), id); err == nil || !strings.Contains(err.Error(), "no connection to t68") {
		t.Fatalf("no connection: %v", err)
	}
}

// The probe through the proxy's SSH connection: cookie out, Set-Cookie in,
// Host header the proxy's name.
func TestProbeThroughSSH(t *testing.T) {
	var gotCookie, gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ProbePath {
			http.Error(w, "<html>404 Not Found</html>", http.StatusNotFound)
			return
		}
		if c, err := r.Cookie("JSESSIONID"); err == nil {
			gotCookie = c.Value
		}
		gotHost = r.Host
		id := hexA + "-n1.t68"
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: id, Path: "/probe", HttpOnly: true})
		fmt.Fprintf(w, `{"host":"t68","route":"t68","hostname":"t68.shone.cn","session":"%s","counter":4,"new":false}`+"\n", id)
	}))
	defer srv.Close()
	c, sshSrv := sshClient(t, "proxy")
	p := &prober{dial: c, addr: srv.Listener.Addr().String(), host: "proxy.shone.cn", timeout: 5 * time.Second}
	pr, err := p.get(ctxT(t), hexA+"-n2.t58")
	if err != nil {
		t.Fatal(err)
	}
	if pr.Counter != 4 || pr.Route != "t68" || pr.SetCookie != hexA+"-n1.t68" || gotCookie != hexA+"-n2.t58" || gotHost != "proxy.shone.cn" {
		t.Fatalf("probe %+v; server saw cookie %q host %q", pr, gotCookie, gotHost)
	}
	if len(sshSrv.Forwards()) != 1 {
		t.Errorf("forwards %v", sshSrv.Forwards())
	}
	// Not the probe: the first line of what came back, and the status.
	if _, err := p.getPath(ctxT(t), "/other.jsp", ""); err == nil || !strings.Contains(err.Error(), "HTTP 404 (<html>404 Not Found</html>)") {
		t.Errorf("404: %v", err)
	}
}

func TestProbeRejectsNonProbeAnswers(t *testing.T) {
	for _, body := range []string{"<html>502 Bad Gateway</html>", `{"host":"t58"}`, ""} {
		if _, err := parseProbe([]byte(body)); err == nil || !strings.Contains(err.Error(), "not the probe's JSON answer") {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// A connection that cannot tunnel is reported as such, not as a crash.
func TestNoTunnelSupport(t *testing.T) {
	inv := labInventory(0)
	r, _ := newRun(inv, []Target{{Host: inv.Hosts[0], Conn: plainConn{}}}, fastTiming, &Collector{})
	if _, why := r.dialer("proxy"); !strings.Contains(why, errNoTunnel) {
		t.Errorf("why = %q", why)
	}
	_ = context.Background
	_ = inventory.RoleProxy
}

func TestReachHintNamesTheFirewallOnlyForRejectsAndDrops(t *testing.T) {
	for msg, firewall := range map[string]bool{
		"t68: tunnel to 10.250.0.58:11211: no route to host":       true,
		"dial tcp 10.0.0.1:8080: i/o timeout":                      true,
		"t58: tunnel to 10.0.0.1:11211: context deadline exceeded": true,
		"dial tcp 10.0.0.1:8080: connect: connection refused":      false,
	} {
		got := reachHint(errors.New(msg), "t58", "FALLBACK")
		if strings.Contains(got, "firewall on t58") != firewall || !strings.Contains(got, "FALLBACK") {
			t.Errorf("%q: hint %q", msg, got)
		}
	}
}

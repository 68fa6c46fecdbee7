package msmhealth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// memcached is the shared session store of the fake Tomcats.
type memcached struct {
	mu   sync.Mutex
	keys map[string]int
}

// fakeTomcat imitates MSM behind the probe app: new sessions go on node
// (unless onFailover), a known id is loaded from the store unless
// cannotRead.
func fakeTomcat(t *testing.T, mc *memcached, route, node, failover string, onFailover, cannotRead bool) *httptest.Server {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mc.mu.Lock()
		defer mc.mu.Unlock()
		id := sessionCookie(r)
		hex := strings.SplitN(id, "-", 2)[0]
		counter, ok := mc.keys[id]
		if !ok || cannotRead {
			n++
			hex = fmt.Sprintf("%032X", n)
			counter = 0
		}
		use := node
		if onFailover {
			use = failover
		}
		nid := hex + "-" + use + "." + route
		delete(mc.keys, id)
		mc.keys[nid] = counter + 1
		fmt.Fprintf(w, `{"host":%q,"session":%q,"counter":%d,"new":%t}`+"\n", route, nid, counter+1, counter == 0)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sessionCookie(r *http.Request) string {
	if c, err := r.Cookie("JSESSIONID"); err == nil {
		return c.Value
	}
	return ""
}

func tomcatOf(t *testing.T, srv *httptest.Server, name, failover string) topology.Tomcat {
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	p, _ := strconv.Atoi(port)
	return topology.Tomcat{Host: name, Address: host, Port: p, JvmRoute: name, FailoverNode: topology.Node{ID: failover}}
}

func TestWholeNamesEveryBrokenTakeover(t *testing.T) {
	for name, c := range map[string]struct {
		onFailover58, cannotRead58, cannotRead68 bool
		want                                     []string
	}{
		"whole":             {},
		"t58 on failover":   {onFailover58: true, want: []string{"t58 -> t68: t58 stored its new session", "on its failover node n1"}},
		"t68 cannot read":   {cannotRead68: true, want: []string{"t58 -> t68: t68 could not load"}},
		"every pair listed": {cannotRead58: true, cannotRead68: true, want: []string{"t58 -> t68: t68 could not load", "t68 -> t58: t58 could not load"}},
	} {
		t.Run(name, func(t *testing.T) {
			mc := &memcached{keys: map[string]int{}}
			s58 := fakeTomcat(t, mc, "t58", "n2", "n1", c.onFailover58, c.cannotRead58)
			s68 := fakeTomcat(t, mc, "t68", "n1", "n2", false, c.cannotRead68)
			topo := &topology.Topology{Sticky: true, Tomcats: []topology.Tomcat{tomcatOf(t, s58, "t58", "n1"), tomcatOf(t, s68, "t68", "n2")}}
			h := engine.NewHost(&enginetest.LocalConn{Name: "proxy"}, nil)
			_, err := Whole(topo, "/probe/").Check(context.Background(), h)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("whole cluster: %v", err)
				}
				return
			}
			var nw *NotWholeError
			if !errors.As(err, &nw) {
				t.Fatalf("want a NotWholeError, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// Before a Tomcat goes away only its takeover matters: one that misplaces
// its sessions on its failover node may be drained (and so repaired), one
// whose sessions another Tomcat cannot load may not.
func TestCanTakeOverChecksOnlyTheLeavingTomcat(t *testing.T) {
	for name, c := range map[string]struct {
		onFailover58, cannotRead68 bool
		from                       string
		ok                         bool
	}{
		"t58 misplaces, t58 leaves":   {onFailover58: true, from: "t58", ok: true},
		"t68 cannot read, t58 leaves": {cannotRead68: true, from: "t58", ok: false},
		"t68 cannot read, t68 leaves": {cannotRead68: true, from: "t68", ok: true},
	} {
		t.Run(name, func(t *testing.T) {
			mc := &memcached{keys: map[string]int{}}
			s58 := fakeTomcat(t, mc, "t58", "n2", "n1", c.onFailover58, false)
			s68 := fakeTomcat(t, mc, "t68", "n1", "n2", false, c.cannotRead68)
			topo := &topology.Topology{Sticky: true, Tomcats: []topology.Tomcat{tomcatOf(t, s58, "t58", "n1"), tomcatOf(t, s68, "t68", "n2")}}
			h := engine.NewHost(&enginetest.LocalConn{Name: "proxy"}, nil)
			_, err := CanTakeOver(topo, "/probe/", c.from).Check(context.Background(), h)
			if (err == nil) != c.ok {
				t.Fatalf("CanTakeOver(%s): %v, want ok=%v", c.from, err, c.ok)
			}
		})
	}
}

// ringTomcat is a fake Tomcat of a ring: like MSM with three or more nodes
// it puts each new session on a random one of its regular nodes, and it
// cannot read the sessions on node unreadable ("" for none).
func ringTomcat(t *testing.T, mc *memcached, route string, regular []string, unreadable string) *httptest.Server {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mc.mu.Lock()
		defer mc.mu.Unlock()
		id := sessionCookie(r)
		counter, ok := mc.keys[id]
		node := ""
		if i := strings.Index(id, "-"); i >= 0 {
			node, _, _ = strings.Cut(id[i+1:], ".")
		}
		if !ok || node == unreadable {
			n++
			id, counter = fmt.Sprintf("%030X%s", n, route[1:]), 0
			node = regular[rand.IntN(len(regular))]
		} else {
			id, _, _ = strings.Cut(id, "-")
		}
		nid := id + "-" + node + "." + route
		mc.keys[nid] = counter + 1
		fmt.Fprintf(w, `{"host":%q,"session":%q,"counter":%d,"new":%t}`+"\n", route, nid, counter+1, counter == 0)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A ring of three: the check reads every node each Tomcat may be asked to
// read from, so a Tomcat that cannot reach one node is caught every time,
// not only when a random probe session happens to land there.
func TestWholeReadsEveryNodeOfARing(t *testing.T) {
	regular := map[string][]string{"t58": {"n2", "n3"}, "t68": {"n1", "n3"}, "t78": {"n1", "n2"}}
	failover := map[string]string{"t58": "n1", "t68": "n2", "t78": "n3"}
	check := func(unreadableBy78, from string) error {
		mc := &memcached{keys: map[string]int{}}
		topo := &topology.Topology{Sticky: true, Nodes: []topology.Node{{ID: "n1"}, {ID: "n2"}, {ID: "n3"}}}
		for _, name := range []string{"t58", "t68", "t78"} {
			bad := ""
			if name == "t78" {
				bad = unreadableBy78
			}
			topo.Tomcats = append(topo.Tomcats, tomcatOf(t, ringTomcat(t, mc, name, regular[name], bad), name, failover[name]))
		}
		h := engine.NewHost(&enginetest.LocalConn{Name: "proxy"}, nil)
		step := Whole(topo, "/probe/")
		if from != "" {
			step = CanTakeOver(topo, "/probe/", from)
		}
		_, err := step.Check(context.Background(), h)
		return err
	}
	if err := check("", ""); err != nil {
		t.Fatalf("whole ring: %v", err)
	}
	for i := 0; i < 5; i++ {
		// Before t68 is drained: its sessions on n1 would reach t78.
		if err := check("n1", "t68"); err == nil || !strings.Contains(err.Error(), "t68 -> t78: t78 could not load") {
			t.Fatalf("round %d: CanTakeOver(t68) with t78 unable to read n1: %v", i, err)
		}
		// t58's sessions never live on n1, its own failover node.
		if err := check("n1", "t58"); err != nil {
			t.Fatalf("round %d: CanTakeOver(t58) with t78 unable to read n1: %v", i, err)
		}
	}
	for i := 0; i < 10; i++ {
		err := check("n1", "")
		if err == nil || !strings.Contains(err.Error(), "t68 -> t78: t78 could not load") || !strings.Contains(err.Error(), "-n1.t68 from memcached") ||
			strings.Contains(err.Error(), "t58 -> t78") {
			t.Fatalf("round %d: t78 cannot read n1: %v", i, err)
		}
	}
}

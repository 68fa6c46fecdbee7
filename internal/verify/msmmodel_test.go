package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// msmModel is a drillEnv that behaves like nginx + Tomcats + MSM 2.3.x in
// sticky mode as docs/msm.md describes them, in memory: each Tomcat serves
// the sessions it holds from its own memory, backs them up to the node
// named in the id, renames on memcached failure and on takeover. The
// balancer is sticky (route on the jvmRoute suffix, backup = the next
// Tomcat up) or round_robin. Stopping memcached loses its data, as a real
// restart does.
type msmModel struct {
	mu       sync.Mutex
	topo     *topology.Topology
	balance  string
	rr       int
	hexSeq   int
	tomcatUp map[string]bool
	nodeUp   map[string]bool
	store    map[string]map[string]int          // node -> key -> counter
	local    map[string]map[string]localSession // tomcat -> hex -> session
	log      []string                           // "stop memcached.service on t68", ...

	// failover overrides a Tomcat's failover node (a wrong failoverNodes).
	failover map[string]string
	// onStop runs after each Stop (tests cancel the run from here).
	onStop func(host, unit string)
	// startErr makes Start fail.
	startErr error
}

type localSession struct {
	id      string
	counter int
}

func newModel(topo *topology.Topology, balance string) *msmModel {
	m := &msmModel{topo: topo, balance: balance, tomcatUp: map[string]bool{}, nodeUp: map[string]bool{},
		store: map[string]map[string]int{}, local: map[string]map[string]localSession{}, failover: map[string]string{}}
	for _, tc := range topo.Tomcats {
		m.tomcatUp[tc.Host] = true
		m.local[tc.Host] = map[string]localSession{}
	}
	for _, n := range topo.Nodes {
		m.nodeUp[n.ID] = true
		m.store[n.ID] = map[string]int{}
	}
	return m
}

func (m *msmModel) failoverOf(tc topology.Tomcat) string {
	if f, ok := m.failover[tc.Host]; ok {
		return f
	}
	return tc.FailoverNode.ID
}

// nodeFor picks the node for a new or relocated session: the first
// available non-failover node, else the failover node.
func (m *msmModel) nodeFor(tc topology.Tomcat, avoid string) string {
	fo := m.failoverOf(tc)
	for _, n := range m.topo.Nodes {
		if n.ID != fo && n.ID != avoid && m.nodeUp[n.ID] {
			return n.ID
		}
	}
	return fo
}

func (m *msmModel) pick(route string) (topology.Tomcat, error) {
	var up []topology.Tomcat
	for _, tc := range m.topo.Tomcats {
		if m.tomcatUp[tc.Host] {
			up = append(up, tc)
		}
	}
	if len(up) == 0 {
		return topology.Tomcat{}, errors.New("HTTP 502 (Bad Gateway)")
	}
	if m.balance == "sticky" && route != "" {
		if tc, ok := m.topo.TomcatByJvmRoute(route); ok && m.tomcatUp[tc.Host] {
			return tc, nil
		}
		return up[0], nil // the route's upstream's backup server
	}
	m.rr++
	return up[m.rr%len(up)], nil
}

func (m *msmModel) Get(ctx context.Context, cookie string) (Probe, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var id SessionID
	if cookie != "" {
		id, _ = ParseSessionID(cookie)
	}
	tc, err := m.pick(id.Route)
	if err != nil {
		return Probe{}, err
	}
	mem := m.local[tc.Host]
	s, held := mem[id.Hex]
	isNew := false
	switch {
	case cookie != "" && held:
		// Served from this Tomcat's memory, even if stale (round robin).
		s.counter++
		cur, _ := ParseSessionID(s.id)
		if !m.nodeUp[cur.Node] {
			cur.Node = m.nodeFor(tc, cur.Node)
			s.id = cur.String()
		}
	case cookie != "" && m.nodeUp[id.Node] && m.store[id.Node][cookie] > 0:
		// Takeover: load from the node the id names, rename to this route,
		// off this Tomcat's failover node, delete the old key.
		s = localSession{counter: m.store[id.Node][cookie] + 1}
		nid := id
		nid.Route = tc.JvmRoute
		if nid.Node == m.failoverOf(tc) {
			nid.Node = m.nodeFor(tc, "")
		}
		if nid != id {
			delete(m.store[id.Node], cookie)
		}
		s.id = nid.String()
	default:
		m.hexSeq++
		hex := fmt.Sprintf("%032X", m.hexSeq)
		s = localSession{id: SessionID{Hex: hex, Node: m.nodeFor(tc, ""), Route: tc.JvmRoute}.String(), counter: 1}
		isNew = true
	}
	cur, _ := ParseSessionID(s.id)
	mem[cur.Hex] = s
	if m.nodeUp[cur.Node] {
		m.store[cur.Node][s.id] = s.counter
	}
	p := Probe{Host: tc.JvmRoute, Route: tc.JvmRoute, Hostname: tc.Host + ".shone.cn", Session: s.id, Counter: s.counter, New: isNew, At: time.Now()}
	if s.id != cookie {
		p.SetCookie = s.id
	}
	return p, nil
}

func (m *msmModel) Key(ctx context.Context, from string, node topology.Node, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.nodeUp[node.ID] {
		return nil, false, errors.New("tunnel: connection refused")
	}
	c, ok := m.store[node.ID][key]
	if !ok {
		return nil, false, nil
	}
	// MSM's value header carries the id.
	return []byte("hdr" + key + ";" + strconv.Itoa(c)), true, nil
}

func (m *msmModel) nodeOf(host string) string {
	for _, n := range m.topo.Nodes {
		if n.Host == host {
			return n.ID
		}
	}
	return ""
}

func (m *msmModel) Stop(ctx context.Context, host, unit string) error {
	m.mu.Lock()
	m.log = append(m.log, "stop "+unit+" on "+host)
	switch unit {
	case unitMemcached:
		m.nodeUp[m.nodeOf(host)] = false
		m.store[m.nodeOf(host)] = map[string]int{}
	case unitTomcat:
		m.tomcatUp[host] = false
		m.local[host] = map[string]localSession{}
	}
	hook := m.onStop
	m.mu.Unlock()
	if hook != nil {
		hook(host, unit)
	}
	return nil
}

// Load: the model runs no load.
func (m *msmModel) Load(context.Context) (*loadgen.Load, error) { return nil, nil }

// Whole: the model's MSM never leaves a half-closed connection behind.
func (m *msmModel) Whole(context.Context, string, string) (time.Duration, string, error) {
	return 0, "cluster whole again after 0.0s", nil
}

func (m *msmModel) Start(ctx context.Context, host, unit string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	m.log = append(m.log, "start "+unit+" on "+host)
	if m.startErr != nil {
		return m.startErr
	}
	switch unit {
	case unitMemcached:
		m.nodeUp[m.nodeOf(host)] = true
	case unitTomcat:
		m.tomcatUp[host] = true
	}
	return nil
}

// allUp reports what is still down.
func (m *msmModel) down() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var d []string
	for h, up := range m.tomcatUp {
		if !up {
			d = append(d, "tomcat "+h)
		}
	}
	for n, up := range m.nodeUp {
		if !up {
			d = append(d, "memcached "+n)
		}
	}
	return strings.Join(d, ", ")
}

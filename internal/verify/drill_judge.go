package verify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/topology"
)

// Pure judgements of the drill: given what the probe answered, is it what
// memcached-session-manager in sticky mode does? Kept apart from the I/O
// so each rule is tested on recorded answers (docs/msm.md).

// servingTomcat names the Tomcat that answered: by the session's jvmRoute,
// or, without one, by the machine's host name.
func servingTomcat(topo *topology.Topology, fqdns map[string]string, p Probe) (topology.Tomcat, error) {
	if p.Route != "" {
		if tc, ok := topo.TomcatByJvmRoute(p.Route); ok {
			return tc, nil
		}
		return topology.Tomcat{}, fmt.Errorf("answered with jvmRoute %q, which is no Tomcat of the inventory (server.xml Engine jvmRoute must be the host's name)", p.Route)
	}
	for _, tc := range topo.Tomcats {
		if p.Hostname == tc.Host || p.Hostname == fqdns[tc.Host] {
			return tc, nil
		}
	}
	return topology.Tomcat{}, fmt.Errorf("answered by host %q without a jvmRoute; no Tomcat of the inventory has that name", p.Hostname)
}

// judgeNewSession checks a cookie-less request's answer: a new session,
// cookie set, and stored on a node MSM may pick for this Tomcat: with two
// nodes exactly its regular (cross) node, with more any node but its
// failover node (MSM picks a random primary node, topology/doc.go).
func judgeNewSession(topo *topology.Topology, fqdns map[string]string, p Probe) (topology.Tomcat, SessionID, error) {
	tc, err := servingTomcat(topo, fqdns, p)
	if err != nil {
		return tc, SessionID{}, err
	}
	id, err := ParseSessionID(p.Session)
	if err != nil {
		return tc, id, err
	}
	switch {
	case p.SetCookie == "":
		return tc, id, fmt.Errorf("%s created session %s but sent no JSESSIONID cookie", tc.Host, p.Session)
	case p.SetCookie != p.Session:
		return tc, id, fmt.Errorf("%s's cookie JSESSIONID=%s differs from the session it reports, %s", tc.Host, p.SetCookie, p.Session)
	case !p.New || p.Counter != 1:
		return tc, id, fmt.Errorf("a request without cookie got an existing session (new=%t, counter %d)", p.New, p.Counter)
	case id.Route != "" && id.Route != tc.JvmRoute:
		return tc, id, fmt.Errorf("session %s names jvmRoute %s but %s answered", p.Session, id.Route, tc.Host)
	}
	if _, ok := topo.NodeByID(id.Node); !ok {
		return tc, id, fmt.Errorf("session %s is on node %s, which is not in memcachedNodes", p.Session, id.Node)
	}
	if !topo.Sticky {
		return tc, id, nil
	}
	if id.Node == tc.FailoverNode.ID {
		return tc, id, fmt.Errorf("%s stored new session %s on %s, its failover node (its own memcached on %s), want %s on %s: "+
			"MSM uses a failover node only while no other node answers; check failoverNodes in %s's context.xml and that %s's memcached is reachable from %s",
			tc.Host, p.Session, id.Node, tc.FailoverNode.Host, tc.RegularNode.ID, tc.RegularNode.Host, tc.Host, tc.RegularNode.Host, tc.Host)
	}
	if len(topo.Nodes) == 2 && id.Node != tc.RegularNode.ID {
		return tc, id, fmt.Errorf("%s stored new session %s on %s, want its regular node %s", tc.Host, p.Session, id.Node, tc.RegularNode.ID)
	}
	return tc, id, nil
}

// judgeSticky checks step 2: every request with the session's cookie must
// reach the Tomcat that created it, and each adds exactly one to the
// counter. prev is the answer before the sequence.
func judgeSticky(topo *topology.Topology, fqdns map[string]string, prev Probe, seq []Probe) error {
	first, _ := servingTomcat(topo, fqdns, prev)
	counters := []string{strconv.Itoa(prev.Counter)}
	hosts := []string{first.Host}
	routes := map[string]bool{first.Host: true}
	lost := false
	idChanged := ""
	last := prev
	for _, p := range seq {
		tc, err := servingTomcat(topo, fqdns, p)
		if err != nil {
			return err
		}
		counters = append(counters, strconv.Itoa(p.Counter))
		hosts = append(hosts, tc.Host)
		routes[tc.Host] = true
		if p.Counter != last.Counter+1 {
			lost = true
		}
		if p.Session != last.Session && idChanged == "" {
			idChanged = fmt.Sprintf("; the session id changed from %s to %s", last.Session, p.Session)
			if a, b := hexOf(last.Session), hexOf(p.Session); a != b {
				idChanged += " (a NEW session: the session was lost)"
			}
		}
		last = p
	}
	pattern := "the counter went " + strings.Join(shorten(counters, 12), ",")
	switch {
	case len(routes) > 1:
		return fmt.Errorf("LOST UPDATES: requests with one session cookie reached %s and %s%s: the proxy does not keep a session on one Tomcat "+
			"(round robin?). With MSM in sticky mode each Tomcat serves the session from its own memory, so each keeps serving its own "+
			"stale copy and updates made on the other are lost. Route on the JSESSIONID's jvmRoute (nginx.balance: sticky) or ip_hash, then clusterctl apply",
			strings.Join(shorten(hosts, 12), ","), pattern, idChanged)
	case lost:
		return fmt.Errorf("LOST UPDATES on %s: %s, not by exactly one per request%s: the session is not kept between requests", first.Host, pattern, idChanged)
	case idChanged != "":
		return fmt.Errorf("%s renamed the session without any failover%s", first.Host, idChanged)
	}
	return nil
}

// hexOf is the part of a session id every MSM rename keeps.
func hexOf(id string) string {
	h, _, _ := strings.Cut(id, "-")
	return h
}

// shorten keeps a long list readable in a one-line reason.
func shorten(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), "...")
}

// verdict classifies one answer while the drill waits for a failover.
type verdict int

const (
	notYet  verdict = iota // plausible, but the failover has not shown yet
	correct                // the failover happened and the session survived
	broken                 // the session was lost or corrupted: stop waiting
)

// judgeMemcachedFailover: after stopping node `down`, the session's
// counter must continue and its id must move to another node (with two
// nodes the serving Tomcat's failover node), on the same Tomcat. Until MSM
// notices the node is gone (availability cache ~1 s) answers may still name
// it; they still count (the Tomcat serves from memory).
func judgeMemcachedFailover(topo *topology.Topology, tc topology.Tomcat, down string, last, p Probe) (verdict, string) {
	if v, why := continuity(last, p); v == broken {
		return v, why
	}
	id, err := ParseSessionID(p.Session)
	if err != nil {
		return broken, err.Error()
	}
	if p.Route != "" && p.Route != tc.JvmRoute {
		return broken, fmt.Sprintf("answered by %s instead of %s, whose memcached did not fail", p.Route, tc.Host)
	}
	switch {
	case id.Node == down:
		return notYet, "session still names " + down
	case len(topo.Nodes) == 2 && topo.Sticky && id.Node != tc.FailoverNode.ID:
		return broken, fmt.Sprintf("session moved to %s, want %s's failover node %s", id.Node, tc.Host, tc.FailoverNode.ID)
	}
	return correct, fmt.Sprintf("session %s moved to %s, counter %d kept", p.Session, id.Node, p.Counter)
}

// judgeTomcatFailover: after stopping Tomcat `down`, another Tomcat must
// answer with the counter continuing (it loads the session from memcached).
func judgeTomcatFailover(topo *topology.Topology, fqdns map[string]string, down string, last, p Probe) (verdict, string) {
	if v, why := continuity(last, p); v == broken {
		return v, why
	}
	tc, err := servingTomcat(topo, fqdns, p)
	if err != nil {
		return broken, err.Error()
	}
	if tc.Host == down {
		return notYet, "still answered by " + down
	}
	return correct, fmt.Sprintf("%s took over as %s, counter %d kept", tc.Host, p.Session, p.Counter)
}

// continuity: the same session (the hex part survives every MSM rename)
// and the counter one higher than the last answer.
func continuity(last, p Probe) (verdict, string) {
	lid, _ := ParseSessionID(last.Session)
	id, err := ParseSessionID(p.Session)
	switch {
	case err != nil:
		return broken, err.Error()
	case p.New || id.Hex != lid.Hex:
		return broken, fmt.Sprintf("SESSION LOST: got a new session %s (counter %d) instead of %s (counter %d)", p.Session, p.Counter, last.Session, last.Counter)
	case p.Counter != last.Counter+1:
		return broken, fmt.Sprintf("LOST UPDATE: counter went from %d to %d, want %d (stale copy of the session)", last.Counter, p.Counter, last.Counter+1)
	}
	return correct, ""
}

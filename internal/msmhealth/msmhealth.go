// Package msmhealth answers the question every change to a live cluster
// has to ask first: could each Tomcat take over the sessions of each other
// one right now? It is what "the cluster is whole" means, for a rollout
// before it drains a Tomcat (and after it restarted one).
//
// The check is end to end, as a user would feel it: from a proxy, a probe
// session is made on Tomcat A directly (it must be stored on one of A's
// regular memcached nodes: MSM falls back to the failover node only while
// it cannot reach a regular one) and then requested from Tomcat B directly,
// which must load it from memcached with its data (counter 2). A memcached
// that restarted can leave spymemcached in a Tomcat with a half-closed
// connection and no new one (docs/msm.md): new sessions go to
// the failover node, or another Tomcat's backups cannot be read, and a
// drain would lose sessions. Heal closes such connections; spymemcached
// then reconnects within about 2 s (seen in the lab: every stuck state
// healed after one Heal, in 6 of 6 rounds, none without it).
package msmhealth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// Whole is the step, run on a proxy, that checks every ordered pair of
// Tomcats, each storing on a regular node; its error names each pair that
// failed and why. It changes nothing but leaves a probe session per pair
// in memcached (expiring with the webapp's session timeout).
func Whole(topo *topology.Topology, probePath string) engine.Step {
	return whole{topo: topo, path: probePath}
}

// CanTakeOver is the part of Whole that must hold before from goes out of
// service: every other Tomcat loads a session from stored with its data.
// Where from stores it does not matter here (a Tomcat that misplaces its
// sessions on its failover node is one a rollout may well be about to
// repair, and that node survives a Tomcat restart).
func CanTakeOver(topo *topology.Topology, probePath, from string) engine.Step {
	return whole{topo: topo, path: probePath, from: from}
}

type whole struct {
	topo *topology.Topology
	path string
	from string // "": every pair, strict
}

func (w whole) Title() string {
	if w.from != "" {
		return "the other Tomcats can take over " + w.from + "'s sessions"
	}
	return "every Tomcat can take over every other's sessions"
}

func (w whole) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	if len(w.topo.Tomcats) < 2 {
		return nil, nil
	}
	res, err := h.Conn.Run(ctx, wholeScript(w.topo, w.path, w.from))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.Title(), err)
	}
	if res.OK() {
		return nil, nil
	}
	bad := tagged(res.Stdout, "FAIL ")
	if len(bad) == 0 {
		return nil, res.ExitError(w.Title())
	}
	return nil, &NotWholeError{Pairs: bad}
}

// NotWholeError lists the takeovers that failed.
type NotWholeError struct{ Pairs []string }

func (e *NotWholeError) Error() string {
	return "MSM is not whole: " + strings.Join(e.Pairs, "; ")
}

// wholeScript is one bash run on the proxy: bash's /dev/tcp needs no curl.
// pair's arguments: A's address, port, name, failover node id ("" when not
// sticky), then B's address, port, name, the node the session must be
// stored on ("" for any), and a node accepted as well (CanTakeOver's: A's
// failover node, where a Tomcat that misplaces its sessions has them).
// With three or more nodes MSM puts a new session on a random regular
// node, so a pair is checked once per regular node of A: A makes sessions until one lands there (at most 16 tries; with two
// regular nodes, 16 misses by chance happen once in 65,536 checks), and
// B must read it. Every node B may be asked to read from is read, every
// time: a Tomcat that cannot reach one node is caught by the first check.
func wholeScript(topo *topology.Topology, probePath, from string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `req() { timeout 5 bash -c "exec 3<>/dev/tcp/$1/$2 && printf 'GET %s/ HTTP/1.0\r\nHost: clusterctl-takeover\r\n$3\r\n' >&3 && cat <&3" 2>/dev/null; }
sid() { printf '%%s' "$1" | grep -o '"session":"[^"]*"' | cut -d'"' -f4; }
on() { case "$1" in *"-$2"|*"-$2."*) return 0;; esac; return 1; }
pair() {
  i=0; id=
  while [ $i -lt 16 ]; do
    i=$((i+1))
    r=$(req "$1" "$2" ""); id=$(sid "$r")
    if [ -z "$id" ]; then echo "FAIL $3 -> $7: $3 gave no session"; return 1; fi
    if [ -n "$4" ] && on "$id" "$4"; then
      echo "FAIL $3 -> $7: $3 stored its new session $id on its failover node $4 (it cannot reach a regular node)"; return 1
    fi
    if [ -z "$8" ] || on "$id" "$8" || { [ -n "$9" ] && on "$id" "$9"; }; then break; fi
    id=
  done
  if [ -z "$id" ]; then echo "FAIL $3 -> $7: $3 stored none of $i new sessions on memcached $8 (it cannot reach $8)"; return 1; fi
  r=$(req "$5" "$6" "Cookie: JSESSIONID=$id\r\n")
  case "$r" in *'"counter":2,'*) return 0;; esac
  echo "FAIL $3 -> $7: $7 could not load $id from memcached (it answered with session $(sid "$r"))"; return 1
}
rc=0
`, strings.TrimSuffix(probePath, "/"))
	for _, a := range topo.Tomcats {
		if from != "" && a.Host != from {
			continue
		}
		failover, also := a.FailoverNode.ID, ""
		if from != "" {
			failover, also = "", a.FailoverNode.ID // not strict: see CanTakeOver
		}
		// Sticky: once per regular node of a (see above).
		var via []string
		for _, n := range topo.Nodes {
			if a.FailoverNode.ID != "" && n.ID != a.FailoverNode.ID {
				via = append(via, n.ID)
			}
		}
		if len(via) == 0 {
			via = []string{""}
		}
		for _, o := range topo.Tomcats {
			for _, n := range via {
				if a.Host != o.Host {
					fmt.Fprintf(&b, "pair %s %d %s %s %s %d %s %s %s || rc=1\n", a.Address, a.Port, a.Host,
						engine.Quote(failover), o.Address, o.Port, o.Host, engine.Quote(n), engine.Quote(also))
				}
			}
		}
	}
	b.WriteString("exit $rc\n")
	return b.String()
}

// Heal is the step, run on a Tomcat host, that closes the JVM's
// half-closed (CLOSE-WAIT) connections to memcached's port: spymemcached
// then notices and reconnects. With none, it is ok.
func Heal(memcachedPort int) engine.Step { return heal{port: memcachedPort} }

type heal struct{ port int }

func (h heal) Title() string { return "close half-closed memcached connections" }

func (h heal) filter() string {
	return "state close-wait '( dport = :" + strconv.Itoa(h.port) + " )'"
}

func (s heal) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	res, err := h.Conn.Run(ctx, "ss -Htn "+s.filter())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Title(), err)
	}
	if err := res.ExitError(s.Title()); err != nil {
		return nil, err
	}
	out := strings.TrimSpace(res.Stdout)
	if out == "" {
		return nil, nil
	}
	n := len(strings.Split(out, "\n"))
	return &engine.Change{
		Summary: fmt.Sprintf("closed %d half-closed connection(s) to memcached (spymemcached had not reconnected)", n),
		Apply: func(ctx context.Context) error {
			res, err := h.Conn.Run(ctx, "ss -K "+s.filter()+" >/dev/null")
			if err != nil {
				return err
			}
			return res.ExitError(s.Title() + " (ss -K needs a kernel with INET_DIAG_DESTROY)")
		},
	}, nil
}

// HealPause is how long spymemcached gets to reconnect after Heal (its
// reconnect delay is about 2 s).
const HealPause = 3 * time.Second

// Recovery is how Ensure got to a passing check.
type Recovery struct {
	Took   time.Duration
	Checks int      // checks run: 1 when the cluster was whole at once
	Heals  int      // rounds in which Heal closed something
	Notes  []string // what each Heal changed, "t58: closed 1 half-closed ..."
}

// StepRunner runs a step on a host (check, then apply): the caller's way,
// with its events; nil means Check and Apply directly.
type StepRunner func(ctx context.Context, h *engine.Host, s engine.Step) error

// Ensure runs check on proxy until it passes. While it fails with a
// NotWholeError it heals the Tomcats' memcached connections, waits
// HealPause and checks again, bounded by timeout; then the error is the
// last check's. Two rounds in a row that found nothing to heal end it
// early: what is wrong then is not a half-closed connection (a wrong
// context.xml, a memcached down), and waiting would only hide it.
func Ensure(ctx context.Context, proxy *engine.Host, tomcats []*engine.Host, check engine.Step, memcachedPort int,
	timeout time.Duration, run StepRunner) (Recovery, error) {
	t0 := time.Now()
	var rec Recovery
	idle := 0 // rounds in a row in which Heal found nothing to close
	for {
		_, err := check.Check(ctx, proxy)
		rec.Took = time.Since(t0)
		rec.Checks++
		var nw *NotWholeError
		if err == nil || !errors.As(err, &nw) || time.Since(t0) > timeout || idle >= 2 || ctx.Err() != nil {
			if nw != nil {
				err = fmt.Errorf("%w (still after %d heal(s) of the Tomcats' memcached connections in %s; nothing half-closed is left to heal: check context.xml, memcached and the network between the hosts)",
					err, rec.Heals, rec.Took.Round(100*time.Millisecond))
			}
			return rec, err
		}
		healed := false
		for _, h := range tomcats {
			note, err := runHeal(ctx, h, Heal(memcachedPort), run)
			if err != nil {
				return rec, err
			}
			if note != "" {
				rec.Notes = append(rec.Notes, h.Name()+": "+note)
				healed = true
			}
		}
		if healed {
			rec.Heals++
			idle = 0
		} else {
			idle++
		}
		select {
		case <-ctx.Done():
			return rec, ctx.Err()
		case <-time.After(HealPause):
		}
	}
}

func runHeal(ctx context.Context, h *engine.Host, s engine.Step, run StepRunner) (string, error) {
	ch, err := s.Check(ctx, h)
	if err != nil || ch == nil {
		return "", err
	}
	if run != nil {
		return ch.Summary, run(ctx, h, s)
	}
	return ch.Summary, ch.Apply(ctx)
}

// Connected is the step, run on a Tomcat host, that checks that the
// Tomcat's JVM holds an established connection to every memcached node.
// The probe sessions of Whole land on one node per pair, so with three or
// more nodes a Tomcat that lost its connection to one node (spymemcached
// stuck after a restart, or the node unreachable from it) can pass Whole;
// spymemcached keeps one connection per node for as long as it works, so a
// node without one is a node that Tomcat cannot read from right now.
func Connected(topo *topology.Topology) engine.Step { return connected{topo: topo} }

type connected struct{ topo *topology.Topology }

func (c connected) Title() string { return "the Tomcat is connected to every memcached node" }

func (c connected) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	res, err := h.Conn.Run(ctx, connectedScript(c.topo))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Title(), err)
	}
	if res.OK() {
		return nil, nil
	}
	missing := tagged(res.Stdout, "MISSING ")
	if len(missing) == 0 {
		return nil, res.ExitError(c.Title())
	}
	return nil, &NotWholeError{Pairs: []string{h.Name() + "'s Tomcat has no connection to memcached " + strings.Join(missing, ", ")}}
}

// connectedScript lists the JVM's established connections to memcached's
// ports (ss -p names the process: connections of sshd, a hand-over's
// tunnel, do not count) and names each node missing from them.
func connectedScript(topo *topology.Topology) string {
	var b strings.Builder
	// The JVM's sockets are IPv6 ones: a peer reads [::ffff:10.0.0.58]:11211.
	b.WriteString(`out=$(ss -Htnp state established | grep '"java"' | awk '{a=$4; gsub(/^\[::ffff:|\]/, "", a); print a}')
rc=0
`)
	for _, n := range topo.Nodes {
		a := n.Address + ":" + strconv.Itoa(n.Port)
		fmt.Fprintf(&b, "printf '%%s\\n' \"$out\" | grep -qxF %s || { echo 'MISSING %s (%s)'; rc=1; }\n", engine.Quote(a), n.ID, a)
	}
	b.WriteString("exit $rc\n")
	return b.String()
}

// tagged is the rest of every line of a check script's output that starts
// with tag: the scripts report each failure on a line of its own.
func tagged(out, tag string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if rest, ok := strings.CutPrefix(l, tag); ok {
			got = append(got, rest)
		}
	}
	return got
}

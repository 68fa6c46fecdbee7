package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/msmhealth"
)

// CheckTakeover is the cluster's health check that sees what per-host
// checks cannot: whether every Tomcat, as MSM stands right now, could take
// over every other's sessions (internal/msmhealth). A memcached restart can
// leave it false for minutes while every unit is active.
const CheckTakeover = "msm takeover"

// msmHosts are the proxy the takeover check runs on and the Tomcat hosts
// Heal can reach, as engine hosts over the run's connections.
func (r *run) msmHosts() (proxy *engine.Host, tomcats []*engine.Host, why string) {
	for _, h := range r.inv.AllHosts() {
		c, _ := r.conn(h.Name)
		if c == nil {
			continue
		}
		if h.Has(inventory.RoleProxy) && proxy == nil {
			proxy = engine.NewHost(c, nil)
		}
		if h.Has(inventory.RoleTomcat) {
			tomcats = append(tomcats, engine.NewHost(c, nil))
		}
	}
	if proxy == nil {
		return nil, nil, "no proxy is reachable over SSH"
	}
	return proxy, tomcats, ""
}

func (r *run) takeoverStep() engine.Step { return msmhealth.Whole(r.topo, probeContextName+"/") }

// takeoverHealth is the read-only check: once, no healing.
func (r *run) takeoverHealth(ctx context.Context) {
	res := Result{Phase: PhaseHealth, Host: DrillHost, Check: CheckTakeover}
	start := time.Now()
	proxy, _, why := r.msmHosts()
	switch {
	case len(r.topo.Tomcats) < 2:
		res.Status, res.Reason = StatusSkipped, "one Tomcat: nothing to take over"
	case proxy == nil:
		res.Status, res.Reason = StatusSkipped, why
	default:
		cctx, cancel := context.WithTimeout(ctx, r.timing.Command)
		_, err := r.takeoverStep().Check(cctx, proxy)
		cancel()
		res.Status, res.Reason = StatusOK, "every Tomcat loads every other's new sessions from memcached, each stored on a regular node"
		if err != nil {
			res.Status = StatusFailed
			res.Reason = err.Error() + "; users of a Tomcat that goes away now lose their sessions: " +
				"run `clusterctl verify` (its drill ends by healing MSM's memcached connections) or `clusterctl restart tomcat`"
		}
	}
	res.Latency, res.Duration = time.Since(start), time.Since(start)
	r.emit(res)
}

// wholeAgain waits until every Tomcat can take over every other's sessions
// again, healing MSM's memcached connections where needed, bounded by
// Timing.Recover; the note says how long it took and what was healed.
func (r *run) wholeAgain(ctx context.Context) (time.Duration, string, error) {
	proxy, tomcats, why := r.msmHosts()
	if proxy == nil {
		return 0, "", fmt.Errorf("cannot check that the cluster is whole again: %s", why)
	}
	rec, err := msmhealth.Ensure(ctx, proxy, tomcats, r.takeoverStep(), r.inv.Memcached.Port, r.timing.Recover, nil)
	if err != nil {
		return rec.Took, "", err
	}
	note := fmt.Sprintf("cluster whole again after %.1fs", rec.Took.Seconds())
	if rec.Heals > 0 {
		note += fmt.Sprintf(" (needed %d heal(s): %s)", rec.Heals, strings.Join(rec.Notes, ", "))
	}
	return rec.Took, note, nil
}

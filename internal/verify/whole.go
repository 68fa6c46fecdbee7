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

// takeover checks once, read-only; with heal (a run that goes on to
// the drill, which acts on the cluster anyway) it heals what it can first
// and says so, so the drill starts on a whole cluster.
func (r *run) takeover(ctx context.Context, heal bool) Result {
	for _, name := range r.order {
		if c, _ := r.conn(name); c == nil {
			heal = false // the drill will not run either: it could not undo
		}
	}
	res := Result{Phase: PhaseHealth, Host: DrillHost, Check: CheckTakeover}
	start := time.Now()
	proxy, _, why := r.msmHosts()
	switch {
	case len(r.topo.Tomcats) < 2:
		res.Status, res.Reason = StatusSkipped, "one Tomcat: nothing to take over"
	case proxy == nil:
		res.Status, res.Reason = StatusSkipped, why
	case heal:
		_, note, err := r.wholeAgain(ctx, "", "")
		res.Status, res.Reason = StatusOK, "every Tomcat loads every other's new sessions from memcached, each stored on a regular node"
		if note != "" && !strings.HasSuffix(note, "(whole at once)") {
			res.Reason += "; not at first, only after recovering: " + note
		}
		if err != nil {
			res.Status, res.Reason = StatusFailed, err.Error()+"; users of a Tomcat that goes away now lose their sessions"
		}
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
	return res
}

// wholeAgain waits until every Tomcat can take over every other's sessions
// again, healing MSM's memcached connections where needed, bounded by
// Timing.Recover; the note says how long it took and what was done. After
// a Tomcat came back (unit), nginx is reloaded first: its passive check
// marked the stopped Tomcat failed, and would route its sessions to a
// backup for up to fail_timeout (10 s) more, which the next drill reads as
// a broken stickiness; a reload starts workers without that mark.
func (r *run) wholeAgain(ctx context.Context, host, unit string) (time.Duration, string, error) {
	start := time.Now()
	proxy, tomcats, why := r.msmHosts()
	if proxy == nil {
		return 0, "", fmt.Errorf("cannot check that the cluster is whole again: %s", why)
	}
	var done []string
	if unit == unitTomcat {
		for _, h := range r.inv.AllHosts() {
			if c, _ := r.conn(h.Name); c != nil && h.Has(inventory.RoleProxy) {
				res, err := r.cmd(ctx, c, "systemctl reload nginx")
				if err == nil {
					err = res.ExitError("reload nginx on " + h.Name)
				}
				if err != nil {
					return 0, "", err
				}
				done = append(done, "nginx reloaded on "+h.Name+" (it stops avoiding "+host+")")
			}
		}
	}
	rec, err := msmhealth.Ensure(ctx, proxy, tomcats, r.takeoverStep(), r.inv.Memcached.Port, r.timing.Recover, nil)
	if err != nil {
		return time.Since(start), "", err
	}
	note := fmt.Sprintf("cluster whole again after %.1fs", time.Since(start).Seconds())
	if rec.Checks == 1 && len(done) == 0 {
		note += " (whole at once)"
	}
	if len(done) > 0 {
		note += " (" + strings.Join(done, ", ") + ")"
	}
	if rec.Heals > 0 {
		note += fmt.Sprintf(" (needed %d heal(s): %s)", rec.Heals, strings.Join(rec.Notes, ", "))
	}
	return time.Since(start), note, nil
}

package verify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/inventory"
)

// runDrill runs the drill against env on the lab's shape and returns the
// results by step name.
func runDrill(t *testing.T, ctx context.Context, inv *inventory.Inventory, env drillEnv) (map[string]Result, *Collector) {
	t.Helper()
	col := &Collector{}
	r, err := newRun(inv, nil, fastTiming, col)
	if err != nil {
		t.Fatal(err)
	}
	r.newDrill(env).run(ctx)
	got := map[string]Result{}
	for _, res := range col.Results {
		got[res.Check] = res
	}
	return got, col
}

func wantStatus(t *testing.T, got map[string]Result, step string, st Status, reasonParts ...string) {
	t.Helper()
	r, ok := got[step]
	if !ok {
		t.Errorf("no result for step %q", step)
		return
	}
	if r.Status != st {
		t.Errorf("%s: %s (%s), want %s", step, r.Status, r.Reason, st)
	}
	for _, p := range reasonParts {
		if !strings.Contains(r.Reason, p) {
			t.Errorf("%s: reason %q lacks %q", step, r.Reason, p)
		}
	}
}

func TestDrillPassesOnAStickyCluster(t *testing.T) {
	inv := labInventory(0)
	m := newModel(labTopo(t, 0), "sticky")
	got, col := runDrill(t, ctxT(t), inv, m)
	for _, s := range []string{StepNewSession, StepSticky, StepBackup, StepMemcached, StepTomcat} {
		wantStatus(t, got, s, StatusOK)
	}
	// No leftovers, so no restore line; everything runs again.
	if _, ok := got[StepRestore]; ok {
		t.Errorf("restore reported although each step started its service again: %+v", got[StepRestore])
	}
	if d := m.down(); d != "" {
		t.Errorf("still down after the drill: %s", d)
	}
	// One memcached and one Tomcat were disrupted, each started again.
	if len(m.log) != 4 || !strings.HasPrefix(m.log[0], "stop memcached.service") || !strings.HasPrefix(m.log[2], "stop tomcat.service") {
		t.Errorf("disruptions = %q", m.log)
	}
	// Step 1 checked both Tomcats' new-session placement.
	wantStatus(t, got, StepNewSession, StatusOK, "t58 -> n2", "t68 -> n1")
	wantStatus(t, got, StepMemcached, StatusOK, "counter 22 kept")
	for _, r := range col.Results {
		if r.Phase != PhaseDrill || r.Host != DrillHost {
			t.Errorf("result %+v not a drill result", r)
		}
	}
	if got[StepMemcached].Latency <= 0 || got[StepTomcat].Latency <= 0 {
		t.Errorf("failover latencies not measured: %v, %v", got[StepMemcached].Latency, got[StepTomcat].Latency)
	}
}

// Round robin in front of sticky MSM: the drill must fail on stickiness,
// explain the lost updates, and not go on to disrupt anything.
func TestDrillRoundRobinFailsWithLostUpdates(t *testing.T) {
	inv := labInventory(0)
	inv.Nginx.Balance = inventory.BalanceRoundRobin // the validator refuses this; verify must catch it live
	m := newModel(labTopo(t, 0), "round_robin")
	got, _ := runDrill(t, ctxT(t), inv, m)
	wantStatus(t, got, StepSticky, StatusFailed, "LOST UPDATES", "t58", "t68", "stale copy", "nginx.balance: sticky")
	wantStatus(t, got, StepMemcached, StatusSkipped)
	wantStatus(t, got, StepTomcat, StatusSkipped)
	if len(m.log) != 0 {
		t.Errorf("drill disrupted a cluster that failed stickiness: %q", m.log)
	}
}

// A Tomcat whose failoverNodes names the other host's memcached puts new
// sessions on its own: step 1 names it.
func TestDrillWrongFailoverNodes(t *testing.T) {
	inv := labInventory(0)
	m := newModel(labTopo(t, 0), "sticky")
	m.failover["t58"] = "n2" // should be n1, its own
	got, _ := runDrill(t, ctxT(t), inv, m)
	wantStatus(t, got, StepNewSession, StatusFailed, "t58 stored new session", "on n1, its failover node", "failoverNodes")
}

// Interrupted while memcached is stopped: the run's context is cancelled,
// yet the restore starts memcached again.
func TestDrillRestoresAfterInterrupt(t *testing.T) {
	inv := labInventory(0)
	m := newModel(labTopo(t, 0), "sticky")
	ctx, cancel := context.WithCancel(ctxT(t))
	m.onStop = func(host, unit string) { cancel() }
	got, _ := runDrill(t, ctx, inv, m)
	wantStatus(t, got, StepMemcached, StatusFailed, "interrupted")
	wantStatus(t, got, StepTomcat, StatusSkipped)
	if len(m.log) == 0 {
		t.Fatal("nothing stopped")
	}
	stopped := strings.TrimPrefix(m.log[0], "stop ") // "memcached.service on t58"
	wantStatus(t, got, StepRestore, StatusOK, "started again: "+stopped)
	if d := m.down(); d != "" {
		t.Errorf("still down after an interrupted drill: %s", d)
	}
}

// A service that will not start again is a loud failure naming it.
func TestDrillRestoreFailureIsReported(t *testing.T) {
	inv := labInventory(0)
	m := newModel(labTopo(t, 0), "sticky")
	m.startErr = errors.New("Job for memcached.service failed")
	got, _ := runDrill(t, ctxT(t), inv, m)
	if len(m.log) == 0 {
		t.Fatal("nothing stopped")
	}
	stopped := strings.TrimPrefix(m.log[0], "stop ")
	wantStatus(t, got, StepMemcached, StatusFailed, "starting "+stopped+" again")
	wantStatus(t, got, StepRestore, StatusFailed, "COULD NOT START AGAIN", stopped)
	if n := slices.Index(m.log, "start "+stopped); n < 0 {
		t.Errorf("no start attempted: %q", m.log)
	}
}

// With more than two nodes, a new session may go to any node but the
// serving Tomcat's failover node.
func TestDrillRingOfFour(t *testing.T) {
	inv := labInventory(2)
	topo := labTopo(t, 2)
	m := newModel(topo, "sticky")
	got, _ := runDrill(t, ctxT(t), inv, m)
	for _, s := range []string{StepNewSession, StepSticky, StepBackup, StepMemcached, StepTomcat} {
		wantStatus(t, got, s, StatusOK)
	}
}

// Nothing answers at all: step 1 fails with the transport's reason and
// nothing is disrupted.
func TestDrillProxyDown(t *testing.T) {
	inv := labInventory(0)
	m := newModel(labTopo(t, 0), "sticky")
	for h := range m.tomcatUp {
		m.tomcatUp[h] = false
	}
	got, _ := runDrill(t, ctxT(t), inv, m)
	wantStatus(t, got, StepNewSession, StatusFailed, "502")
	wantStatus(t, got, StepSticky, StatusSkipped)
	if len(m.log) != 0 {
		t.Errorf("disruptions: %q", m.log)
	}
}

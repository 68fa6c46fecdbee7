package rollout

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// fake is a cluster in memory: proxies with upstreams, Tomcats that are
// ready or not, memcacheds with keys and a dump file. Every action is
// logged, and after each one the fake checks what users would see: every
// upstream at every proxy has a member that is up there and ready, and no
// key of a memcached is missing once its hand-over is done. hook runs after
// each action, to cut the run there.
type fake struct {
	mu        sync.Mutex
	proxies   []string
	tomcats   []string
	nodes     []string
	ups       map[string]map[string][]Member
	ready     map[string]bool
	broken    map[string]bool // never gets ready after a restart
	restarts  map[string]int
	gateErr   error
	appsErr   error                     // the app gate's verdict
	keys      map[string]map[string]int // memcached host -> key -> version
	inv       map[string]int            // memcached host -> restarts (its InvocationID)
	dumps     map[string]*fakeDump
	evict     int
	log       []string
	violation []string
	hook      func(action string)
	// stale: Tomcats drained since their last restart; the others may
	// have changed their sessions, so undraining one is a violation.
	stale map[string]bool
	// The app: the version each Tomcat runs, the one a restart puts in
	// place, and the versions the live check finds unable to share
	// sessions with the others.
	version map[string]int
	want    int
	badLive map[int]bool
}

type fakeDump struct {
	inv  int
	keys map[string]int
}

func newFake(tomcats ...string) *fake {
	f := &fake{proxies: []string{"proxy"}, tomcats: tomcats, nodes: tomcats,
		ups: map[string]map[string][]Member{}, ready: map[string]bool{}, broken: map[string]bool{},
		restarts: map[string]int{}, stale: map[string]bool{}, version: map[string]int{}, want: 1, badLive: map[int]bool{}, keys: map[string]map[string]int{}, inv: map[string]int{}, dumps: map[string]*fakeDump{}}
	for _, t := range tomcats {
		f.ready[t] = true
		f.version[t] = 1
		f.keys[t] = map[string]int{"s-" + t: 1}
	}
	f.addProxy("proxy")
	return f
}

func (f *fake) addProxy(p string) {
	if !contains(f.proxies, p) {
		f.proxies = append(f.proxies, p)
	}
	f.ups[p] = map[string][]Member{}
	for _, up := range append([]string{"tomcat-servers"}, f.tomcats...) {
		for _, t := range f.tomcats {
			f.ups[p][up] = append(f.ups[p][up], Member{Tomcat: t})
		}
	}
}

func (f *fake) setDown(p, t string, down bool) {
	for _, ms := range f.ups[p] {
		for i := range ms {
			if ms[i].Tomcat == t {
				ms[i].Down = down
			}
		}
	}
}

func (f *fake) downAt(p, t string) bool {
	for _, ms := range f.ups[p] {
		for _, m := range ms {
			if m.Tomcat == t && m.Down {
				return true
			}
		}
	}
	return false
}

// did logs an action, checks what users see, and runs the hook (outside
// the lock: a hook may read the fake).
func (f *fake) did(action string) {
	f.mu.Lock()
	f.log = append(f.log, action)
	for p, ups := range f.ups {
		for up, ms := range ups {
			ok := false
			for _, m := range ms {
				ok = ok || !m.Down && f.ready[m.Tomcat]
			}
			if !ok {
				f.violation = append(f.violation, fmt.Sprintf("after %q: upstream %s at %s has no serving member", action, up, p))
			}
		}
	}
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		hook(action)
	}
}

func (f *fake) Proxies() []string        { return f.proxies }
func (f *fake) Tomcats() []string        { return f.tomcats }
func (f *fake) MemcachedHosts() []string { return f.nodes }

func (f *fake) Upstreams(ctx context.Context, p string) (map[string][]Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]Member{}
	for up, ms := range f.ups[p] {
		out[up] = append([]Member(nil), ms...)
	}
	return out, nil
}

func (f *fake) Ready(ctx context.Context, t string, wait time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	if wait > 0 && !f.broken[t] {
		f.ready[t] = true
	}
	ok := f.ready[t]
	f.mu.Unlock()
	if wait > 0 {
		f.did("ready " + t)
	}
	if !ok {
		return fmt.Errorf("%s: not ready", t)
	}
	return nil
}

func (f *fake) act(ctx context.Context, action string, change func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	change()
	f.mu.Unlock()
	f.did(action)
	return nil
}

func (f *fake) Drain(ctx context.Context, p, t string, _ time.Duration) error {
	return f.act(ctx, "drain "+t+"@"+p, func() { f.setDown(p, t, true); f.stale[t] = true })
}

func (f *fake) Undrain(ctx context.Context, p, t string) error {
	return f.act(ctx, "undrain "+t+"@"+p, func() {
		if f.stale[t] {
			f.violation = append(f.violation, "undrain "+t+"@"+p+" without a restart since its drain: its own session copies would answer older")
		}
		if f.badLive[f.version[t]] {
			f.violation = append(f.violation, fmt.Sprintf("undrain %s@%s serving version %d, which the live check refused", t, p, f.version[t]))
		}
		f.setDown(p, t, false)
	})
}

func (f *fake) RestartTomcat(ctx context.Context, t string) error {
	return f.act(ctx, "restart "+t, func() { f.ready[t] = false; f.restarts[t]++; delete(f.stale, t); f.version[t] = f.want })
}

func (f *fake) Gate(ctx context.Context, t string, after bool) (GateResult, error) {
	if err := ctx.Err(); err != nil {
		return GateResult{}, err
	}
	f.did("gate " + t)
	return GateResult{Checks: 1}, f.gateErr
}

func (f *fake) CheckApps(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.did("check apps")
	return f.appsErr
}

func (f *fake) CheckLive(ctx context.Context, t string, serving []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range serving {
		if !f.ready[o] || f.version[o] == f.version[t] {
			continue
		}
		f.log = append(f.log, fmt.Sprintf("check live %s against %s", t, o))
		if f.badLive[f.version[t]] {
			f.want = f.version[o]
			return fmt.Errorf("%s: version %d cannot read %s's sessions", t, f.version[t], o)
		}
	}
	return nil
}

func (f *fake) ClearPending(ctx context.Context, host string, d engine.Deferred) error {
	return f.act(ctx, "clear "+host+" "+d.Service, func() {})
}

func (f *fake) HandoverLeft(ctx context.Context, host string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dumps[host] != nil, ctx.Err()
}

func (f *fake) Dump(ctx context.Context, host string) error {
	return f.act(ctx, "dump "+host, func() {
		f.dumps[host] = &fakeDump{inv: f.inv[host], keys: copyKeys(f.keys[host])}
	})
}

func (f *fake) RestartMemcached(ctx context.Context, host string) error {
	return f.act(ctx, "restart memcached "+host, func() {
		f.dumps[host].keys = copyKeys(f.keys[host]) // the catch-up
		f.inv[host]++
		f.keys[host] = map[string]int{}
	})
}

func (f *fake) Restore(ctx context.Context, host string) (RestoreInfo, error) {
	var ri RestoreInfo
	err := f.act(ctx, "restore "+host, func() {
		d := f.dumps[host]
		if d.inv == f.inv[host] {
			ri.NotNeeded = true
		} else {
			for k, v := range d.keys {
				if _, ok := f.keys[host][k]; !ok {
					f.keys[host][k] = v
					ri.Added++
				}
			}
			ri.Evicted = f.evict
		}
		delete(f.dumps, host)
	})
	return ri, err
}

func (f *fake) Discard(ctx context.Context, host string) error {
	return f.act(ctx, "discard "+host, func() { delete(f.dumps, host) })
}

func copyKeys(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *fake) actions(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, a := range f.log {
		if strings.HasPrefix(a, prefix) {
			out = append(out, a)
		}
	}
	return out
}

// whole: nothing drained, every Tomcat ready, no dump left, every key there.
func (f *fake) whole(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.proxies {
		for _, tc := range f.tomcats {
			if f.downAt(p, tc) {
				t.Errorf("%s left drained at %s", tc, p)
			}
		}
	}
	for _, tc := range f.tomcats {
		if !f.ready[tc] {
			t.Errorf("%s left not ready", tc)
		}
		if _, ok := f.keys[tc]["s-"+tc]; !ok {
			t.Errorf("memcached on %s lost its key", tc)
		}
		if f.dumps[tc] != nil {
			t.Errorf("a dump is left on %s", tc)
		}
	}
	for _, v := range f.violation {
		t.Error(v)
	}
}

func cfgFor(f *fake) Config {
	return Config{Env: f, MaxUnavailable: 1, DrainTimeout: time.Second, ReadyTimeout: time.Second}
}

func tomcatPlan(hosts ...string) Plan {
	p := Plan{Tomcat: map[string][]engine.Deferred{}, Memcached: map[string][]engine.Deferred{}}
	for _, h := range hosts {
		p.Tomcat[h] = []engine.Deferred{{Play: "tomcat", Handler: "restart tomcat", Service: "tomcat"}}
	}
	return p
}

func bothPlan(hosts ...string) Plan {
	p := tomcatPlan(hosts...)
	for _, h := range hosts {
		p.Memcached[h] = []engine.Deferred{{Play: "memcached", Handler: "restart memcached", Service: "memcached"}}
	}
	return p
}

func TestCleanRollingRestart(t *testing.T) {
	f := newFake("t58", "t68")
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68"))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []string{"check apps", "drain t58@proxy", "restart t58", "ready t58", "undrain t58@proxy", "drain t68@proxy", "restart t68", "ready t68", "undrain t68@proxy"}
	got := f.actions("")
	var core []string
	for _, a := range got {
		if !strings.HasPrefix(a, "gate") && !strings.HasPrefix(a, "clear") {
			core = append(core, a)
		}
	}
	if !reflect.DeepEqual(core, want) {
		t.Errorf("actions %q, want %q", core, want)
	}
	if !reflect.DeepEqual(res.Restarted, []string{"t58", "t68"}) {
		t.Errorf("restarted %q", res.Restarted)
	}
	f.whole(t)
}

// The terminal-closed case: t68 left drained by an earlier run. It is
// brought back before t58 goes out (else: no serving Tomcat, 620 of 3,360
// requests failed in the lab).
func TestResumesAHostLeftDrainedBeforeDrainingAnother(t *testing.T) {
	f := newFake("t58", "t68")
	f.setDown("proxy", "t68", true)
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68"))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	log := f.actions("")
	if i, j := index(log, "undrain t68@proxy"), index(log, "drain t58@proxy"); i < 0 || j < 0 || i > j {
		t.Errorf("t68 was not back before t58 was drained: %q", log)
	}
	if f.restarts["t68"] != 1 || f.restarts["t58"] != 1 {
		t.Errorf("restarts %v, want one each", f.restarts)
	}
	f.whole(t)
}

// A host left drained and ready is restarted before it serves again: the
// others may have served and changed its sessions meanwhile, and its own
// copies would answer older (MSM sticky trusts them).
func TestRestartsAReadyHostLeftDrained(t *testing.T) {
	f := newFake("t58", "t68")
	f.setDown("proxy", "t68", true)
	res := Run(context.Background(), cfgFor(f), tomcatPlan())
	if res.Err != nil || !reflect.DeepEqual(res.Undrained, []string{"t68"}) || f.restarts["t68"] != 1 {
		t.Fatalf("undrained %q, restarts %v, err %v", res.Undrained, f.restarts, res.Err)
	}
	f.whole(t)
}

// A Stop that arrives once a Tomcat is drained finishes its turn (restart,
// ready, undrain) instead of undrainig it as it was, and nothing after it
// starts.
func TestStopAfterTheDrainFinishesTheTurn(t *testing.T) {
	f := newFake("t58", "t68")
	stop := make(chan struct{})
	f.hook = func(a string) {
		if a == "drain t58@proxy" {
			close(stop)
		}
	}
	cfg := cfgFor(f)
	cfg.Stop = stop
	res := Run(context.Background(), cfg, tomcatPlan("t58", "t68"))
	if !res.Stopped || f.restarts["t58"] != 1 || f.restarts["t68"] != 0 {
		t.Fatalf("stopped %v, restarts %v, err %v", res.Stopped, f.restarts, res.Err)
	}
	f.whole(t)
}

// The rollout asks at every safe point, before each turn, whether it may
// go on (the CLI: does it still hold its locks); a no there stops it before
// the next drain, whenever it came.
func TestASafePointThatSaysStopEndsTheRollBeforeTheNextDrain(t *testing.T) {
	f := newFake("t58", "t68")
	stop := make(chan struct{})
	asked := 0
	cfg := cfgFor(f)
	cfg.Stop = stop
	cfg.AtSafePoint = func(context.Context) {
		asked++
		if len(f.actions("drain")) == 1 {
			close(stop) // the lock was lost during t58's turn
		}
	}
	res := Run(context.Background(), cfg, tomcatPlan("t58", "t68"))
	if !res.Stopped || f.restarts["t58"] != 1 || f.restarts["t68"] != 0 {
		t.Fatalf("stopped %v, restarts %v, err %v", res.Stopped, f.restarts, res.Err)
	}
	if asked < 2 {
		t.Fatalf("asked at %d safe points, want one before each turn", asked)
	}
	f.whole(t)
}

// The live check runs on the canary only (the first Tomcat on the new
// version, against one still on the old), and a refusal restarts the
// canary onto the old version before it is undrained: no user request
// reaches the refused version, and no other Tomcat is touched.
func TestLiveCheckRefusalPutsTheCanaryBackBeforeItServes(t *testing.T) {
	f := newFake("t58", "t68")
	f.want = 2
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68"))
	if res.Err != nil || f.version["t58"] != 2 || f.version["t68"] != 2 {
		t.Fatalf("a good version: err %v, versions %v", res.Err, f.version)
	}
	if c := f.actions("check live"); !reflect.DeepEqual(c, []string{"check live t58 against t68"}) {
		t.Errorf("live checks %q, want one, on the canary", c)
	}
	f.whole(t)

	f = newFake("t58", "t68")
	f.want, f.badLive[2] = 2, true
	res = Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68"))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "runs the previous version again") || res.Failed != "t58" {
		t.Fatalf("a refused version: failed %q, err %v", res.Failed, res.Err)
	}
	if f.version["t58"] != 1 || f.version["t68"] != 1 || f.restarts["t58"] != 2 || f.restarts["t68"] != 0 {
		t.Errorf("versions %v, restarts %v: want t58 back on 1 through a second restart, t68 untouched", f.version, f.restarts)
	}
	f.whole(t)
}

// A host left drained and not ready is restarted while still drained.
func TestRestartsAHostLeftDrainedAndNotReady(t *testing.T) {
	f := newFake("t58", "t68")
	f.setDown("proxy", "t68", true)
	f.ready["t68"] = false
	res := Run(context.Background(), cfgFor(f), tomcatPlan())
	if res.Err != nil || f.restarts["t68"] != 1 {
		t.Fatalf("restarts %v, err %v", f.restarts, res.Err)
	}
	f.whole(t)
}

// The last-serving rule counts what serves, not the inventory: with t68
// down (not drained, just not ready) t58 is never drained, also with
// --disruptive, and the error names why.
func TestNeverDrainsTheLastServingTomcat(t *testing.T) {
	for _, disruptive := range []bool{false, true} {
		f := newFake("t58", "t68")
		f.ready["t68"] = false
		f.broken["t68"] = true
		cfg := cfgFor(f)
		cfg.Disruptive = disruptive
		res := Run(context.Background(), cfg, tomcatPlan("t58"))
		if res.Err == nil || !strings.Contains(res.Err.Error(), "t68 (not ready)") {
			t.Errorf("disruptive %v: err %v, want a refusal naming t68 not ready", disruptive, res.Err)
		}
		if d := f.actions("drain"); len(d) != 0 {
			t.Errorf("disruptive %v: drained %q", disruptive, d)
		}
	}
}

// Drained at one proxy of two counts: an upstream there has no one left.
func TestLastServingIsCountedAtEveryProxy(t *testing.T) {
	f := newFake("t58", "t68")
	f.addProxy("proxy2")
	f.setDown("proxy2", "t68", true)
	f.broken["t68"] = true // so the resume cannot bring it back
	f.ready["t68"] = false
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58"))
	if res.Err == nil || len(f.actions("drain t58")) != 0 {
		t.Fatalf("err %v, drains %q: want a refusal before any drain of t58", res.Err, f.actions("drain t58"))
	}
}

// max_unavailable 2 of 3: a batch of two leaves the third serving; with
// the third not ready the batch is refused.
func TestBatchesKeepOneServing(t *testing.T) {
	f := newFake("t58", "t68", "t78")
	cfg := cfgFor(f)
	cfg.MaxUnavailable = 2
	if res := Run(context.Background(), cfg, tomcatPlan("t58", "t68", "t78")); res.Err != nil {
		t.Fatal(res.Err)
	}
	f.whole(t)

	f = newFake("t58", "t68", "t78")
	f.ready["t78"] = false
	f.broken["t78"] = true
	cfg.Env = f
	res := Run(context.Background(), cfg, tomcatPlan("t58", "t68"))
	if res.Err == nil || len(f.actions("drain")) != 0 {
		t.Fatalf("err %v, drains %q: want the batch refused", res.Err, f.actions("drain"))
	}
}

// A Tomcat that is up at the proxy but not ready at the first look (its
// first new session on the failover node, right after a restart) is
// waited for, not taken as down: the rollout goes on once it is ready.
func TestNotReadyAtOneLookIsWaitedFor(t *testing.T) {
	f := newFake("t58", "t68")
	f.ready["t68"] = false
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68"))
	if res.Err != nil {
		t.Fatalf("t68 gets ready when waited for, yet: %v", res.Err)
	}
	if got := strings.Join(f.actions("ready t68"), ","); got == "" {
		t.Errorf("t68 was never waited for: %q", f.log)
	}
	f.whole(t)
}

// A new app version that cannot read the running one's sessions stops the
// rollout before anything is drained or restarted, a Tomcat an earlier
// run left drained included.
func TestAppGateStopsBeforeAnyRestart(t *testing.T) {
	f := newFake("t58", "t68")
	f.appsErr = errors.New("app shop: v3 cannot read 3 of the 20 sampled sessions")
	f.setDown("proxy", "t68", true)
	f.ready["t68"] = false
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68"))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "cannot read 3 of the 20") {
		t.Fatalf("err %v", res.Err)
	}
	if d, r := f.actions("drain"), f.actions("restart"); len(d)+len(r) != 0 {
		t.Errorf("drained %q, restarted %q before the app gate's refusal", d, r)
	}
	f.appsErr = nil
	if res := Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68")); res.Err != nil {
		t.Fatalf("once the gate passes: %v", res.Err)
	}
	if got := f.actions("check apps"); len(got) != 2 {
		t.Errorf("the gate ran %d times over two runs", len(got))
	}
}

// A failing gate stops the rollout before the drain.
func TestGateStopsBeforeTheDrain(t *testing.T) {
	f := newFake("t58", "t68")
	f.gateErr = errors.New("MSM is not whole")
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58", "t68"))
	if res.Err == nil || len(f.actions("drain")) != 0 {
		t.Fatalf("err %v, drains %q", res.Err, f.actions("drain"))
	}
}

// One Tomcat: nothing to drain to; it is restarted without a drain.
func TestSingleTomcatRestartsWithoutDrain(t *testing.T) {
	f := newFake("t58")
	res := Run(context.Background(), cfgFor(f), tomcatPlan("t58"))
	if res.Err != nil || len(f.actions("drain")) != 0 || f.restarts["t58"] != 1 {
		t.Fatalf("err %v, drains %q, restarts %v", res.Err, f.actions("drain"), f.restarts)
	}
}

// memcached before Tomcat, one host at a time, every key back.
func TestMemcachedBeforeTomcatWithKeysHandedOver(t *testing.T) {
	f := newFake("t58", "t68")
	res := Run(context.Background(), cfgFor(f), bothPlan("t58", "t68"))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	log := f.actions("")
	if index(log, "restore t68") > index(log, "drain t58@proxy") {
		t.Errorf("a Tomcat was drained before the memcacheds were done: %q", log)
	}
	if !reflect.DeepEqual(res.MemcachedRestarted, []string{"t58", "t68"}) {
		t.Errorf("memcached restarted %q", res.MemcachedRestarted)
	}
	f.whole(t)
}

func TestRestoreThatDoesNotFitFails(t *testing.T) {
	f := newFake("t58", "t68")
	f.evict = 3
	res := Run(context.Background(), cfgFor(f), bothPlan("t58"))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "evicted 3") {
		t.Fatalf("err %v, want the evictions named", res.Err)
	}
}

// boundaries is every action of a clean run of plan, in order: the points
// at which the fault tests cut a run.
func boundaries(t *testing.T, hosts []string, plan Plan) []string {
	f := newFake(hosts...)
	if res := Run(context.Background(), cfgFor(f), plan); res.Err != nil {
		t.Fatal(res.Err)
	}
	return f.actions("")
}

// The fault matrix in-process: a run cut after each action, by a Stop (the
// first signal) and by an abort (a second signal, SIGKILL, a lost link:
// nothing more runs), then run again. Users never see an upstream without a
// serving Tomcat, the rerun finishes, and nothing is left drained, not
// ready, or without its keys. A Stop also leaves nothing drained that is
// ready, and never a dump.
func TestCutAtEveryBoundaryThenRerun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hosts []string
		plan  func() Plan
	}{
		{"restart tomcat", []string{"t58", "t68"}, func() Plan { return tomcatPlan("t58", "t68") }},
		{"memcached and tomcat", []string{"t58", "t68"}, func() Plan { return bothPlan("t58", "t68") }},
	} {
		for i, b := range boundaries(t, tc.hosts, tc.plan()) {
			for _, fault := range []string{"stop", "abort"} {
				name := fmt.Sprintf("%s/%02d %s/%s", tc.name, i, b, fault)
				t.Run(name, func(t *testing.T) {
					f := newFake(tc.hosts...)
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					stop := make(chan struct{})
					n := 0
					f.hook = func(a string) {
						if n++; n == i+1 {
							if fault == "stop" {
								close(stop)
							} else {
								cancel()
							}
						}
					}
					cfg := cfgFor(f)
					cfg.Stop = stop
					first := Run(ctx, cfg, tc.plan())
					f.hook = nil
					if fault == "stop" && first.Err != nil {
						f.mu.Lock()
						for _, p := range f.proxies {
							for _, tm := range f.tomcats {
								if f.downAt(p, tm) && f.ready[tm] {
									t.Errorf("a stop left %s drained at %s though it is ready", tm, p)
								}
							}
						}
						if len(f.dumps) > 0 {
							t.Errorf("a stop left a dump: %v", f.dumps)
						}
						f.mu.Unlock()
					}
					again := Run(context.Background(), cfgFor(f), tc.plan())
					if again.Err != nil {
						t.Fatalf("rerun: %v (first run: %v)", again.Err, first.Err)
					}
					f.whole(t)
				})
			}
		}
	}
}

// A hand-over cut between the restart and the restore is finished by the
// next run before anything else, and reported.
func TestResumesAHalfDoneHandover(t *testing.T) {
	f := newFake("t58", "t68")
	ctx, cancel := context.WithCancel(context.Background())
	f.hook = func(a string) {
		if a == "restart memcached t58" {
			cancel()
		}
	}
	Run(ctx, cfgFor(f), bothPlan("t58"))
	f.hook = nil
	if f.dumps["t58"] == nil {
		t.Fatal("no dump left on t58 after a cut between restart and restore")
	}
	res := Run(context.Background(), cfgFor(f), Plan{})
	if res.Err != nil || !reflect.DeepEqual(res.Resumed, []string{"t58"}) {
		t.Fatalf("resumed %q, err %v", res.Resumed, res.Err)
	}
	f.whole(t)
}

func index(xs []string, x string) int {
	for i, s := range xs {
		if s == x {
			return i
		}
	}
	return -1
}

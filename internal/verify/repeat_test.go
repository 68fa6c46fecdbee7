package verify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFlappingNamesEachChange(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	round := func(n int, takeover Status) Round {
		return Round{N: n, At: t0.Add(time.Duration(n) * 10 * time.Second), Summary: Summary{Results: []Result{
			{Host: "t58", Check: CheckTomcatActive, Status: StatusOK},
			{Host: DrillHost, Check: CheckTakeover, Status: takeover, Reason: "MSM is not whole: t58 -> t68"},
		}}}
	}
	rounds := []Round{round(1, StatusOK), round(2, StatusFailed), round(3, StatusFailed), round(4, StatusOK)}
	flaps := Flapping(rounds)
	if len(flaps) != 1 || flaps[0].Check != CheckTakeover || len(flaps[0].Changes) != 3 {
		t.Fatalf("flaps %+v, want the takeover check with 3 states (ok, failed, ok)", flaps)
	}
	want := "cluster msm takeover: ok from round 1 (09:00:10), then failed from round 2 (09:00:20), then ok from round 4 (09:00:40)"
	if got := flaps[0].String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if l := rounds[1].Line(); !strings.Contains(l, "1 ok, 1 failed") || !strings.Contains(l, "cluster msm takeover: MSM is not whole") {
		t.Errorf("round line %q", l)
	}
	if f := Flapping(rounds[1:3]); len(f) != 0 {
		t.Errorf("steady failures are not flapping: %+v", f)
	}
}

// A series on a healthy cluster, in NDJSON: each round's checks, a
// "round" object after each, one "flapping" object at the end; with t58's
// memcached gone from the second round on, that round fails and the check
// is named as flapping.
func TestRunSeriesReportsRoundsAndFlaps(t *testing.T) {
	inv := labInventory(0)
	conns := fakeCluster(t, inv)
	var targets []Target
	for _, h := range inv.Hosts {
		targets = append(targets, Target{Host: h, Conn: conns[h.Name]})
	}
	var out strings.Builder
	round := 0
	opts := Options{Parallel: 3, Timing: fastTiming}
	rounds, failed, err := RunSeries(ctxT(t), inv, targets, opts, Series{N: 3, JSON: true}, writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), `"type":"round"`) {
			round++
			if round == 1 { // from round 2 on memcached on t58 is stopped
				conns["t58"].answers["systemctl is-active "] = okRes("inactive\n")
			}
		}
		return out.Write(p)
	}))
	if err != nil || len(rounds) != 3 || failed != 2 {
		t.Fatalf("%d rounds, %d failed, err %v; want 3 rounds, 2 failed", len(rounds), failed, err)
	}
	var types []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev struct{ Type string }
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not NDJSON: %q", l)
		}
		if ev.Type == "round" || ev.Type == "flapping" {
			types = append(types, ev.Type)
		}
	}
	if strings.Join(types, ",") != "round,round,round,flapping" {
		t.Errorf("series objects %v", types)
	}
	if !strings.Contains(out.String(), `"type":"flapping","rounds":3,"failed_rounds":2,"checks":[{"host":"t58"`) {
		t.Errorf("the flapping object does not name t58:\n%s", lastLine(out.String()))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}

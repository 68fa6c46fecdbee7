package verify

import (
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

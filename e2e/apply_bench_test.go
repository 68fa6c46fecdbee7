//go:build e2e

package e2e

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkApply times `clusterctl apply` on the lab: once from pristine
// hosts (the first call, right after the harness brought the lab up) and
// then b.N no-op runs. Per play it reports the slowest host's sum of step
// durations (hosts run in parallel, so that is the play's share of the
// wall time). Run it alone on a fresh lab: `make bench-lab`.
func BenchmarkApply(b *testing.B) {
	pristineOnce.Do(func() {
		res := RunApply(b)
		if res.ExitCode != 0 {
			b.Fatalf("pristine apply exited %d: %v", res.ExitCode, res.Failures())
		}
		pristine = res
	})
	if pristine.ExitCode != 0 || pristine.Wall == 0 {
		b.Fatal("no pristine apply")
	}
	var noop RunResult
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		noop = RunApply(b)
		if noop.ExitCode != 0 {
			b.Fatalf("no-op apply exited %d: %v", noop.ExitCode, noop.Failures())
		}
		for _, h := range noop.PerHost {
			if h.Changed != 0 {
				b.Fatalf("no-op apply changed %d on %s: %v", h.Changed, h.Host, noop.Changed())
			}
		}
		total += noop.Wall
	}
	b.StopTimer()
	b.ReportMetric(pristine.Wall.Seconds(), "pristine_s")
	b.ReportMetric(total.Seconds()/float64(b.N), "noop_s")
	for play, d := range perPlay(pristine) {
		b.ReportMetric(d.Seconds(), "pristine_"+play+"_s")
	}
	for play, d := range perPlay(noop) {
		b.ReportMetric(d.Seconds(), "noop_"+play+"_s")
	}
	logSlowSteps(b, noop, 8)
}

var (
	pristineOnce sync.Once
	pristine     RunResult
)

// perPlay is, per play, the largest per-host sum of its step and handler
// durations.
func perPlay(r RunResult) map[string]time.Duration {
	sums := map[[2]string]time.Duration{}
	for _, e := range r.Steps {
		sums[[2]string{e.Play, e.Host}] += time.Duration(e.DurationMS) * time.Millisecond
	}
	out := map[string]time.Duration{}
	for k, d := range sums {
		if k[0] != "" && d > out[k[0]] {
			out[k[0]] = d
		}
	}
	return out
}

// logSlowSteps names the slowest steps of a run: where the round trips go.
func logSlowSteps(b *testing.B, r RunResult, n int) {
	steps := append([]StepEvent(nil), r.Steps...)
	sort.Slice(steps, func(i, j int) bool { return steps[i].DurationMS > steps[j].DurationMS })
	for i := 0; i < n && i < len(steps); i++ {
		s := steps[i]
		b.Logf("slow step: %4d ms  %s %s: %s", s.DurationMS, s.Host, s.Play, s.Step)
	}
}

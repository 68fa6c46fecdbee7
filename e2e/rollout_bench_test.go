//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// BenchmarkRollout times `clusterctl restart tomcat` on the applied lab
// under the load generator's 20 sessions: per phase (drain, restart,
// ready, undrain, the takeover checks) the mean per host, the whole
// rollout, and what the sessions saw. A regression shows as a slower
// phase or as any failed, lost or stale count above 0.
// `make bench-lab` runs it after BenchmarkApply.
func BenchmarkRollout(b *testing.B) {
	if res := RunApply(b); res.ExitCode != 0 {
		b.Fatalf("apply exited %d: %v", res.ExitCode, res.Failures())
	}
	sums := map[string]time.Duration{}
	counts := map[string]int{}
	var wall time.Duration
	var failed, lost, stale, requests int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := startLoad(b)
		res := RunLab(b, "restart", "tomcat")
		rep := l.Stop()
		if res.ExitCode != 0 {
			b.Fatalf("restart tomcat exited %d: %s", res.ExitCode, lastLines(res.Stdout, 10))
		}
		wall += res.Wall
		failed, lost, stale, requests = failed+rep.Failed, lost+rep.Lost, stale+rep.Stale, requests+rep.Requests
		addRolloutPhases(res.Stdout, sums, counts)
	}
	b.StopTimer()
	b.ReportMetric(wall.Seconds()/float64(b.N), "rollout_s")
	for p, d := range sums {
		b.ReportMetric(d.Seconds()/float64(counts[p]), strings.ReplaceAll(p, " ", "_")+"_s")
	}
	b.ReportMetric(float64(requests)/float64(b.N), "load_requests")
	b.ReportMetric(float64(failed), "load_failed")
	b.ReportMetric(float64(lost), "load_lost")
	b.ReportMetric(float64(stale), "load_stale")
}

// addRolloutPhases adds the phases of the rollout events in stdout (a
// run's NDJSON) to sums and counts, by phase name.
func addRolloutPhases(stdout string, sums map[string]time.Duration, counts map[string]int) {
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.Contains(line, `"type":"rollout"`) {
			continue
		}
		var r struct {
			Phases []struct {
				Phase      string `json:"phase"`
				DurationNS int64  `json:"duration_ns"`
			} `json:"phases"`
		}
		json.Unmarshal([]byte(line), &r)
		for _, p := range r.Phases {
			sums[p.Phase] += time.Duration(p.DurationNS)
			counts[p.Phase]++
		}
	}
}

//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkAppRollout times a new version of the shop app going live on
// the two-host lab, alternating v1 and v2 (compatible): the whole apply,
// the WAR's upload, the offline and the live session check, and the
// rollout's phases per host
// (drain, restart with the WAR put in place, ready with the app's health,
// undrain). `make bench-lab` runs it.
func BenchmarkAppRollout(b *testing.B) {
	if res := RunApply(b); res.ExitCode != 0 {
		b.Fatalf("apply exited %d: %v", res.ExitCode, res.Failures())
	}
	inv1, _ := shopApp(b, "bench-apps", "v1", cartV1)
	inv2, _ := shopApp(b, "bench-apps", "v2", cartV2)
	invs := [2]string{inv1, inv2}
	if res := runCmd(b, invCmd(b, invs[0], "apply")); res.ExitCode != 0 {
		b.Fatalf("apply v1: exit %d", res.ExitCode)
	}
	sums, counts := map[string]time.Duration{}, map[string]int{}
	var wall time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := runCmd(b, invCmd(b, invs[(i+1)%2], "apply"))
		if res.ExitCode != 0 {
			b.Fatalf("apply: exit %d: %s", res.ExitCode, lastLines(res.Stdout, 10))
		}
		wall += res.Wall
		for _, e := range res.Steps {
			for prefix, k := range map[string]string{"stage shop": "stage", "session check shop": "offline_check", "live session check shop": "live_check"} {
				if strings.HasPrefix(e.Step, prefix) {
					sums[k] += time.Duration(e.DurationMS) * time.Millisecond
					counts[k]++
				}
			}
		}
		addRolloutPhases(res.Stdout, sums, counts)
	}
	b.StopTimer()
	b.ReportMetric(wall.Seconds()/float64(b.N), "apply_s")
	for p, d := range sums {
		b.ReportMetric(d.Seconds()/float64(counts[p]), strings.ReplaceAll(p, " ", "_")+"_s")
	}
	if res := RunApply(b); res.ExitCode != 0 { // the lab without the app again
		b.Fatalf("apply of the lab inventory: exit %d", res.ExitCode)
	}
}

//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// BenchmarkStatus times `clusterctl status -o json` on the applied lab,
// the whole command as an operator runs it (dial, one read per host,
// rendering). The target is under a second on the lab.
func BenchmarkStatus(b *testing.B) {
	ensureApplied(b)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := runCmd(b, labCmd(b, "status"))
		if res.ExitCode != 0 {
			b.Fatalf("status exited %d:\n%s", res.ExitCode, res.Stderr)
		}
		total += res.Wall
	}
	avg := total / time.Duration(b.N)
	b.ReportMetric(float64(avg.Milliseconds()), "ms/status")
	if avg >= time.Second {
		b.Errorf("status took %s on average; want under 1s on the lab", avg.Round(time.Millisecond))
	}
}

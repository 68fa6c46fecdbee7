//go:build e2e

package e2e

import (
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkApply times `clusterctl apply` on the lab, with SSH straight
// over the bridge (rtt=0s) and through netdelay relays that add a real
// network's round-trip time (rtt=50ms, half each way; the cluster's own
// traffic stays undelayed): once from pristine hosts (a teardown first),
// then b.N no-op applies and `verify --no-drill` runs. It holds the round
// trip targets: at most 10 SSH session channels per host in a no-op
// apply; a no-op under 0.3 s at 0 ms and under 1 s at 50 ms, verify
// under 1 s at 50 ms; at 50 ms, round trips (the pristine apply's time
// over the one at 0 ms) under 20 % of the pristine apply. The pristine
// apply's time is split into package installs, uploads, JVM starts and
// the rest. Run it alone on a fresh lab: `make bench-lab`.
func BenchmarkApply(b *testing.B) {
	for _, rtt := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run("rtt="+rtt.String(), func(b *testing.B) { benchApply(b, rtt) })
	}
}

// The round-trip targets, per RTT.
var (
	maxNoopSessions = int64(10)
	noopTarget      = map[time.Duration]time.Duration{0: 300 * time.Millisecond, 50 * time.Millisecond: time.Second}
	verifyTarget    = map[time.Duration]time.Duration{50 * time.Millisecond: time.Second}
	maxRTTShare     = 0.20
)

// pristineAt is the pristine apply at each RTT, run once: the benchmark
// function is called again for b.N.
var (
	pristineMu sync.Mutex
	pristineAt = map[time.Duration]RunResult{}
)

// metric reports a figure and logs it too: a benchmark that fails a
// target prints no metrics line, and the figures are what tell by how much.
func metric(b *testing.B, v float64, unit string) {
	b.ReportMetric(v, unit)
	b.Logf("figure: %s = %.3f", unit, v)
}

func benchApply(b *testing.B, rtt time.Duration) {
	inv := testLab.Inventory
	if rtt > 0 {
		inv = rttInventory(b, rtt)
	}
	pristine := pristineApply(b, inv, rtt)
	var noop, ver RunResult
	var total, verifyTotal time.Duration
	sessions := map[string]int64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		noop = runCmd(b, invCmd(b, inv, "apply"))
		if noop.ExitCode != 0 {
			b.Fatalf("no-op apply exited %d: %v\n%s", noop.ExitCode, noop.Failures(), lastLines(noop.Stderr, 10))
		}
		if c := noop.Changed(); len(c) != 0 {
			b.Fatalf("no-op apply changed: %v", c)
		}
		if len(noop.Sessions) != len(HostNames()) {
			b.Fatalf("no-op apply reported SSH sessions for %v, want every host %v", noop.Sessions, HostNames())
		}
		for h, n := range noop.Sessions {
			sessions[h] = max(sessions[h], n)
		}
		total += noop.Wall
		ver = runCmd(b, invCmd(b, inv, "verify", "--no-drill"))
		if ver.ExitCode != 0 {
			b.Fatalf("verify --no-drill exited %d\n%s", ver.ExitCode, lastLines(ver.Stdout+ver.Stderr, 20))
		}
		verifyTotal += ver.Wall
	}
	b.StopTimer()
	noopAvg := total / time.Duration(b.N)
	verifyAvg := verifyTotal / time.Duration(b.N)
	metric(b, pristine.Wall.Seconds(), "pristine_s")
	metric(b, noopAvg.Seconds(), "noop_s")
	metric(b, verifyAvg.Seconds(), "verify_s")
	var most int64
	for h, n := range sessions {
		b.Logf("no-op apply: %s opened %d SSH session channels; verify: %d", h, n, ver.Sessions[h])
		most = max(most, n)
		if n > maxNoopSessions {
			b.Errorf("no-op apply opened %d SSH session channels on %s; want at most %d", n, h, maxNoopSessions)
		}
		if v := ver.Sessions[h]; v == 0 || v > maxNoopSessions {
			b.Errorf("verify --no-drill opened %d SSH session channels on %s; want 1 to %d", v, h, maxNoopSessions)
		}
	}
	metric(b, float64(most), "noop_sessions_max")
	for kind, d := range pristineSplit(pristine) {
		metric(b, d.Seconds(), "pristine_"+kind+"_s")
	}
	if base, ok := pristineAt[0]; ok && rtt > 0 {
		share := (pristine.Wall - base.Wall).Seconds() / pristine.Wall.Seconds()
		metric(b, 100*share, "pristine_roundtrip_pct")
		b.Logf("pristine apply: %s at %s RTT, %s at 0 ms: round trips %.0f%% of it", pristine.Wall.Round(time.Millisecond), rtt, base.Wall.Round(time.Millisecond), 100*share)
		if share > maxRTTShare {
			b.Errorf("round trips are %.0f%% of the pristine apply at %s RTT; want under %.0f%%", 100*share, rtt, 100*maxRTTShare)
		}
	}
	if want, ok := noopTarget[rtt]; ok && noopAvg > want {
		b.Errorf("no-op apply took %s at %s RTT; want under %s", noopAvg.Round(time.Millisecond), rtt, want)
	}
	if want, ok := verifyTarget[rtt]; ok && verifyAvg > want {
		b.Errorf("verify --no-drill took %s at %s RTT; want under %s", verifyAvg.Round(time.Millisecond), rtt, want)
	}
	for play, d := range perPlay(noop) {
		metric(b, d.Seconds(), "noop_"+strings.ReplaceAll(play, " ", "_")+"_s")
	}
	logSlowSteps(b, noop, 8)
	if rtt > 0 { // where a far network's round trips go when things change
		logSlowSteps(b, pristine, 12)
	}
}

// pristineApply tears the lab down (straight over the bridge) and applies
// inv to the pristine hosts, once per RTT.
func pristineApply(b *testing.B, inv string, rtt time.Duration) RunResult {
	pristineMu.Lock()
	defer pristineMu.Unlock()
	if res, ok := pristineAt[rtt]; ok {
		return res
	}
	if res := RunTeardown(b); res.ExitCode != 0 {
		b.Fatalf("teardown exited %d: %v", res.ExitCode, res.Failures())
	}
	res := runCmd(b, invCmd(b, inv, "apply"))
	if res.ExitCode != 0 {
		b.Fatalf("pristine apply at %s RTT exited %d: %v\n%s", rtt, res.ExitCode, res.Failures(), lastLines(res.Stderr, 10))
	}
	pristineAt[rtt] = res
	return res
}

// pristineSplit sorts a pristine apply's time by what it waited for, the
// slowest host's sum per kind (hosts run in parallel): package installs,
// uploads (staging tarballs, jars and WARs), JVM starts (Tomcat's restart
// and the wait for it) and everything else.
func pristineSplit(r RunResult) map[string]time.Duration {
	kind := func(e StepEvent) string {
		s := strings.ToLower(e.Step)
		switch {
		case strings.HasPrefix(s, "packages ") || strings.Contains(s, "install"):
			return "installs"
		case strings.Contains(s, "upload") || strings.HasPrefix(s, "stage "):
			return "uploads"
		case strings.Contains(s, "tomcat started") || strings.Contains(s, "restart tomcat"):
			return "jvm"
		}
		return "other"
	}
	sums := map[[2]string]time.Duration{}
	for _, e := range r.Steps {
		sums[[2]string{kind(e), e.Host}] += time.Duration(e.DurationMS) * time.Millisecond
	}
	out := map[string]time.Duration{"installs": 0, "uploads": 0, "jvm": 0, "other": 0}
	for k, d := range sums {
		out[k[0]] = max(out[k[0]], d)
	}
	return out
}

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

package verify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleRun(sink Sink) {
	sink.Begin([]string{"proxy", "t58"}, true)
	sink.Check(Result{Phase: PhaseHealth, Host: "t58", Check: CheckMemcachedListens, Status: StatusFailed, Reason: "memcached listens only on 127.0.0.1:11211", Latency: 20 * time.Millisecond, Duration: 20 * time.Millisecond})
	sink.Check(Result{Phase: PhaseDrill, Host: DrillHost, Check: StepMemcached, Status: StatusOK, Reason: "moved to n1", Latency: 1234 * time.Millisecond, Duration: 9 * time.Second})
	sink.End(Summary{Drill: true, Elapsed: 12 * time.Second, Results: []Result{
		{Host: "t58", Check: CheckMemcachedListens, Status: StatusFailed}, {Host: DrillHost, Check: StepMemcached, Status: StatusOK}}})
}

func TestTextReport(t *testing.T) {
	var b bytes.Buffer
	sampleRun(NewText(&b, false))
	want := `verifying 2 hosts: health checks, then the failover drill (stops and restarts one memcached and one Tomcat)
t58      health  memcached listens               failed    0.02s  memcached listens only on 127.0.0.1:11211
cluster  drill   4 memcached failover            ok        1.23s  moved to n1

2 checks: 1 ok, 1 failed, 0 skipped (failed: t58 memcached listens) in 12.0s
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestJSONReport(t *testing.T) {
	var b bytes.Buffer
	sampleRun(NewJSON(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	var step struct {
		Type, Phase, Host, Check, Status, Reason string
		LatencyMS                                int64 `json:"latency_ms"`
		DurationMS                               int64 `json:"duration_ms"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &step); err != nil {
		t.Fatal(err)
	}
	if step.Type != "check" || step.Phase != "drill" || step.Check != StepMemcached || step.Status != "ok" || step.LatencyMS != 1234 || step.DurationMS != 9000 {
		t.Errorf("drill step event %+v", step)
	}
	var sum struct {
		Type         string
		Failed, OK   int
		FailedChecks []string `json:"failed_checks"`
	}
	json.Unmarshal([]byte(lines[3]), &sum)
	if sum.Type != "summary" || sum.Failed != 1 || sum.OK != 1 || len(sum.FailedChecks) != 1 || sum.FailedChecks[0] != "t58 memcached listens" {
		t.Errorf("summary %+v", sum)
	}
}

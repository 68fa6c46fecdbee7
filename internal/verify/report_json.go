package verify

import (
	"io"
	"time"

	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/internal/output"
)

// NewJSON writes one JSON object per line (NDJSON): verify_start, one
// check per result (health checks and drill steps alike), summary. Field
// names are part of the CLI's interface.
func NewJSON(w io.Writer) Sink { return &jsonSink{lines: output.NewLines(w)} }

type jsonSink struct{ lines *output.Lines }

type jsonStart struct {
	Type  string    `json:"type"`
	Time  time.Time `json:"time"`
	Hosts []string  `json:"hosts"`
	Drill bool      `json:"drill"`
}

type jsonCheck struct {
	Type       string    `json:"type"`
	Time       time.Time `json:"time"`
	Phase      string    `json:"phase"`
	Host       string    `json:"host"`
	Check      string    `json:"check"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason"`
	LatencyMS  int64     `json:"latency_ms"`
	RecoveryMS int64     `json:"recovery_ms,omitempty"`
	Load       *jsonLoad `json:"load,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// jsonLoad is what verify --load's sessions saw during a drill step.
type jsonLoad struct {
	Sessions int   `json:"sessions"`
	Requests int   `json:"requests"`
	Failed   int   `json:"failed"`
	Lost     int   `json:"lost"`
	Stale    int   `json:"stale"`
	P99MS    int64 `json:"p99_ms"`
}

type jsonSummary struct {
	Type         string    `json:"type"`
	Time         time.Time `json:"time"`
	Total        int       `json:"total"`
	OK           int       `json:"ok"`
	Failed       int       `json:"failed"`
	Skipped      int       `json:"skipped"`
	Drill        bool      `json:"drill"`
	DurationMS   int64     `json:"duration_ms"`
	FailedChecks []string  `json:"failed_checks"`
	Summary      string    `json:"summary"`
}

func (s *jsonSink) write(v any) { s.lines.Write(v) }

func (s *jsonSink) Begin(hosts []string, drill bool) {
	if hosts == nil {
		hosts = []string{}
	}
	s.write(jsonStart{Type: "verify_start", Time: time.Now(), Hosts: hosts, Drill: drill})
}

func (s *jsonSink) Check(r Result) {
	s.write(jsonCheck{Type: "check", Time: time.Now(), Phase: r.Phase, Host: r.Host, Check: r.Check, Status: string(r.Status),
		Reason: r.Reason, LatencyMS: r.Latency.Milliseconds(), RecoveryMS: r.Recovery.Milliseconds(), DurationMS: r.Duration.Milliseconds(), Load: loadOf(r.Load)})
}

func (s *jsonSink) End(sum Summary) {
	failed := sum.FailedNames()
	if failed == nil {
		failed = []string{}
	}
	s.write(jsonSummary{Type: "summary", Time: time.Now(), Total: len(sum.Results), OK: sum.Count(StatusOK), Failed: sum.Count(StatusFailed),
		Skipped: sum.Count(StatusSkipped), Drill: sum.Drill, DurationMS: sum.Elapsed.Milliseconds(), FailedChecks: failed, Summary: sum.Line()})
}

func loadOf(r *loadgen.Report) *jsonLoad {
	if r == nil {
		return nil
	}
	return &jsonLoad{Sessions: r.Sessions, Requests: r.Requests, Failed: r.Failed, Lost: r.Lost, Stale: r.Stale, P99MS: r.P99.Milliseconds()}
}

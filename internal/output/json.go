package output

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// NewJSON writes one JSON object per event per line (NDJSON). Field names
// are part of the CLI's interface: `type` is always present and picks the
// shape (run_start, host_start, step, handler, host_done, recap).
func NewJSON(w io.Writer) engine.EventSink {
	return &jsonSink{lines: NewLines(w)}
}

type jsonSink struct{ lines *Lines }

// Lines writes NDJSON: one object per line, whole lines only, from any
// number of goroutines. Every -o json output (apply's events, verify's
// checks, the rollout's summary) goes through one.
type Lines struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewLines writes NDJSON to w.
func NewLines(w io.Writer) *Lines { return &Lines{enc: json.NewEncoder(w)} }

// Write writes v and its newline in one Write.
func (l *Lines) Write(v any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.enc.Encode(v)
}

type jsonRunStart struct {
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Hosts  []string  `json:"hosts"`
	Plays  []string  `json:"plays"`
	DryRun bool      `json:"dry_run"`
}

type jsonHostStart struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	Host string    `json:"host"`
}

type jsonStep struct {
	Type       string    `json:"type"`
	Time       time.Time `json:"time"`
	Host       string    `json:"host"`
	Play       string    `json:"play"`
	Step       string    `json:"step"`
	Status     string    `json:"status"`
	DurationMS int64     `json:"duration_ms"`
	Summary    string    `json:"summary,omitempty"`
	Diff       string    `json:"diff,omitempty"`
	Error      string    `json:"error,omitempty"`
	DryRun     bool      `json:"dry_run"`
}

// jsonProgress is step_start (a step begins) and step_progress (it still
// runs, duration_ms so far; summary "up to <bound>" for a wait).
type jsonProgress struct {
	Type       string    `json:"type"`
	Time       time.Time `json:"time"`
	Host       string    `json:"host"`
	Play       string    `json:"play"`
	Step       string    `json:"step"`
	DurationMS int64     `json:"duration_ms"`
	Summary    string    `json:"summary,omitempty"`
}

// jsonCounts is shared by host_done, the recap's per-host rows and its
// totals, so a consumer reads counts the same way everywhere.
type jsonCounts struct {
	OK      int `json:"ok"`
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

type jsonHost struct {
	Host   string `json:"host"`
	Status string `json:"status"` // ok, changed, failed, unfinished
	jsonCounts
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

type jsonHostDone struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	jsonHost
}

type jsonRecap struct {
	Type            string     `json:"type"`
	Time            time.Time  `json:"time"`
	DryRun          bool       `json:"dry_run"`
	DurationMS      int64      `json:"duration_ms"`
	HostsTotal      int        `json:"hosts_total"`
	HostsFailed     int        `json:"hosts_failed"` // failed or unfinished
	HostsUnfinished int        `json:"hosts_unfinished"`
	jsonCounts                 // totals over all hosts
	Summary         string     `json:"summary"`
	Hosts           []jsonHost `json:"per_host"`
}

func hostRow(h engine.HostRecap) jsonHost {
	return jsonHost{
		Host:       h.Host,
		Status:     hostStatus(h),
		jsonCounts: jsonCounts{h.OK, h.Changed, h.Failed, h.Skipped},
		DurationMS: h.Elapsed.Milliseconds(),
		Error:      errString(h.Err),
	}
}

func (s *jsonSink) Emit(e engine.Event) {
	var v any
	switch e.Type {
	case engine.EventRunStart:
		v = jsonRunStart{Type: string(e.Type), Time: e.Time, Hosts: nonNil(e.Hosts), Plays: nonNil(e.Plays), DryRun: e.DryRun}
	case engine.EventHostStart:
		v = jsonHostStart{Type: string(e.Type), Time: e.Time, Host: e.Host}
	case engine.EventStepStart, engine.EventStepProgress:
		v = jsonProgress{Type: string(e.Type), Time: e.Time, Host: e.Host, Play: e.Play, Step: e.Step,
			DurationMS: e.Duration.Milliseconds(), Summary: e.Summary}
	case engine.EventStep, engine.EventHandler:
		v = jsonStep{Type: string(e.Type), Time: e.Time, Host: e.Host, Play: e.Play, Step: e.Step, Status: string(e.Status),
			DurationMS: e.Duration.Milliseconds(), Summary: e.Summary, Diff: e.Diff, Error: errString(e.Err), DryRun: e.DryRun}
	case engine.EventHostDone:
		if e.HostRecap == nil {
			return
		}
		v = jsonHostDone{Type: string(e.Type), Time: e.Time, jsonHost: hostRow(*e.HostRecap)}
	case engine.EventRunRecap:
		if e.Recap == nil {
			return
		}
		r := *e.Recap
		t := r.Totals()
		out := jsonRecap{Type: string(e.Type), Time: e.Time, DryRun: r.DryRun, DurationMS: r.Elapsed.Milliseconds(),
			HostsTotal: len(r.Hosts), HostsFailed: r.FailedHosts(),
			jsonCounts: jsonCounts{t.OK, t.Changed, t.Failed, t.Skipped}, Summary: FinalLine(r), Hosts: []jsonHost{}}
		for _, h := range r.Hosts {
			if h.Unfinished {
				out.HostsUnfinished++
			}
			out.Hosts = append(out.Hosts, hostRow(h))
		}
		v = out
	default:
		return
	}
	s.lines.Write(v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

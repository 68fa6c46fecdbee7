package verify

import (
	"fmt"

	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/loadgen"
)

// Status is a check's outcome.
type Status string

const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // did not apply, or could not run because of another failure
)

// Phases of a run.
const (
	PhaseHealth = "health"
	PhaseDrill  = "drill"
)

// DrillHost is the Host of drill results: the drill is about the cluster.
const DrillHost = "cluster"

// Result is one named check on one host (or one drill step).
type Result struct {
	Phase  string
	Host   string
	Check  string
	Status Status
	// Reason is one line: for a failure what is wrong and what to do, for
	// ok what was seen.
	Reason string
	// Latency is, for a drill step that disrupts something, the time from
	// the disruption to the first correct answer; otherwise how long the
	// check took to get its answer.
	Latency  time.Duration
	Duration time.Duration // the whole check, including waits and restores
	// Recovery is, for a drill step that undid its disruption, the time
	// from the undo until every Tomcat could take over every other's
	// sessions again (msmhealth): the cluster whole, not just units active.
	Recovery time.Duration
	// Load is what verify --load's sessions saw during a disruptive step.
	Load *loadgen.Report
}

// Summary is the outcome of a whole run.
type Summary struct {
	Results []Result
	Elapsed time.Duration
	Drill   bool // the drill was asked for
}

// Count returns how many results have status st.
func (s Summary) Count(st Status) int {
	n := 0
	for _, r := range s.Results {
		if r.Status == st {
			n++
		}
	}
	return n
}

// Failed reports whether any check failed.
func (s Summary) Failed() bool { return s.Count(StatusFailed) > 0 }

// FailedNames lists "host check" for every failure, for the final line.
func (s Summary) FailedNames() []string {
	var out []string
	for _, r := range s.Results {
		if r.Status == StatusFailed {
			out = append(out, r.Host+" "+r.Check)
		}
	}
	return out
}

// Line is the run's one-line verdict.
func (s Summary) Line() string {
	line := fmt.Sprintf("%d checks: %d ok, %d failed, %d skipped", len(s.Results), s.Count(StatusOK), s.Count(StatusFailed), s.Count(StatusSkipped))
	if f := s.FailedNames(); len(f) > 0 {
		line += " (failed: " + strings.Join(f, "; ") + ")"
	}
	if !s.Drill {
		line += "; drill not run"
	}
	return line
}

// Sink receives a run's results as they happen. Implementations must be
// safe for concurrent use: hosts are checked in parallel.
type Sink interface {
	Begin(hosts []string, drill bool)
	Check(Result)
	End(Summary)
}

// Discard is a Sink that drops everything (the caller reads the Summary).
var Discard Sink = discard{}

type discard struct{}

func (discard) Begin([]string, bool) {}
func (discard) Check(Result)         {}
func (discard) End(Summary)          {}

package verify

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/output"
)

// Round is one run of a `verify --repeat` series.
type Round struct {
	N       int
	At      time.Time
	Summary Summary
}

// Line is the round's one line: its verdict and each failure's reason.
func (r Round) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "round %d %s  %d ok, %d failed, %d skipped", r.N, r.At.Format("15:04:05"),
		r.Summary.Count(StatusOK), r.Summary.Count(StatusFailed), r.Summary.Count(StatusSkipped))
	for _, res := range r.Summary.Results {
		if res.Status == StatusFailed {
			fmt.Fprintf(&b, "\n    %s %s: %s", res.Host, res.Check, res.Reason)
		}
	}
	return b.String()
}

// Change is a check's status from one round on.
type Change struct {
	Round  int       `json:"round"`
	At     time.Time `json:"time"`
	Status Status    `json:"status"`
}

// Flap is a check whose status changed during a series, with every change.
type Flap struct {
	Host    string   `json:"host"`
	Check   string   `json:"check"`
	Changes []Change `json:"changes"` // the first round's status, then each change
}

func (f Flap) String() string {
	parts := make([]string, len(f.Changes))
	for i, c := range f.Changes {
		parts[i] = fmt.Sprintf("%s from round %d (%s)", c.Status, c.Round, c.At.Format("15:04:05"))
	}
	return f.Host + " " + f.Check + ": " + strings.Join(parts, ", then ")
}

// Flapping lists the checks whose status was not the same in every round,
// in the order they first appear.
func Flapping(rounds []Round) []Flap {
	type key struct{ host, check string }
	var order []key
	seen := map[key][]Change{}
	for _, r := range rounds {
		for _, res := range r.Summary.Results {
			k := key{res.Host, res.Check}
			ch, ok := seen[k]
			if !ok {
				order = append(order, k)
			}
			if len(ch) == 0 || ch[len(ch)-1].Status != res.Status {
				seen[k] = append(ch, Change{Round: r.N, At: r.At, Status: res.Status})
			}
		}
	}
	var out []Flap
	for _, k := range order {
		if ch := seen[k]; len(ch) > 1 {
			out = append(out, Flap{Host: k.host, Check: k.check, Changes: ch})
		}
	}
	return out
}

// Series is verify --repeat: N rounds, Interval apart.
type Series struct {
	N        int
	Interval time.Duration
	JSON     bool // NDJSON: every check of every round, a "round" object after each, "flapping" at the end
}

// RunSeries runs the rounds over the same targets and reports to w: one
// line per round (text), then the checks that flapped with when they
// changed. It returns the rounds run and how many had a failed check; a
// cancelled ctx ends it after the current round.
func RunSeries(ctx context.Context, inv *inventory.Inventory, targets []Target, opts Options, s Series, w io.Writer) (rounds []Round, failed int, err error) {
	lines := output.NewLines(w)
	for i := 1; i <= s.N && ctx.Err() == nil; i++ {
		if i > 1 {
			select {
			case <-ctx.Done():
			case <-time.After(s.Interval):
			}
			if ctx.Err() != nil {
				break
			}
		}
		sink := Discard
		if s.JSON {
			sink = NewJSON(w)
		}
		at := time.Now()
		sum, err := Run(ctx, inv, targets, opts, sink)
		if err != nil {
			return rounds, failed, err
		}
		r := Round{N: i, At: at, Summary: sum}
		rounds = append(rounds, r)
		if sum.Failed() {
			failed++
		}
		if s.JSON {
			lines.Write(jsonRound{Type: "round", Round: i, Time: at, OK: sum.Count(StatusOK), Failed: sum.Count(StatusFailed),
				Skipped: sum.Count(StatusSkipped), FailedChecks: sum.FailedNames()})
		} else {
			fmt.Fprintln(w, r.Line())
		}
	}
	flaps := Flapping(rounds)
	if s.JSON {
		lines.Write(jsonFlapping{Type: "flapping", Rounds: len(rounds), FailedRounds: failed, Checks: flaps})
	} else {
		fmt.Fprintf(w, "%d rounds, %d with failures; %d check(s) flapped\n", len(rounds), failed, len(flaps))
		for _, f := range flaps {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	return rounds, failed, nil
}

type jsonRound struct {
	Type         string    `json:"type"`
	Round        int       `json:"round"`
	Time         time.Time `json:"time"`
	OK           int       `json:"ok"`
	Failed       int       `json:"failed"`
	Skipped      int       `json:"skipped"`
	FailedChecks []string  `json:"failed_checks"`
}

type jsonFlapping struct {
	Type         string `json:"type"`
	Rounds       int    `json:"rounds"`
	FailedRounds int    `json:"failed_rounds"`
	Checks       []Flap `json:"checks"`
}

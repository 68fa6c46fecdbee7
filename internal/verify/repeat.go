package verify

import (
	"fmt"
	"strings"
	"time"
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

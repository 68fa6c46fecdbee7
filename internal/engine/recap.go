package engine

import "time"

// HostRecap is how one host's run ended.
type HostRecap struct {
	Host                         string
	OK, Changed, Failed, Skipped int
	Elapsed                      time.Duration
	// Err is why the host stopped early: the failed step's error, or the
	// context's error when the run was interrupted. Nil on success.
	Err error
	// Unfinished is true when the run was interrupted (context cancelled)
	// before this host finished, including hosts that never started.
	Unfinished bool
	// Deferred are the Rolling restarts this host's changes call for, left
	// pending on the host for the rollout that follows the converge.
	Deferred []Deferred
}

// Deferred is one Rolling Restart handler a host still needs.
type Deferred struct {
	Play, Handler, Service string
}

// Recap is the outcome of a whole run, hosts in the order given to Run.
type Recap struct {
	Hosts   []HostRecap
	Elapsed time.Duration
	DryRun  bool
}

// Failed reports whether any host failed or did not finish; the CLI maps it
// to exit code 1.
func (r Recap) Failed() bool { return r.FailedHosts() > 0 }

// FailedHosts counts hosts that failed or did not finish.
func (r Recap) FailedHosts() int {
	n := 0
	for _, h := range r.Hosts {
		if h.Err != nil || h.Unfinished {
			n++
		}
	}
	return n
}

// Totals sums the per-host counts (Host and Err are left empty).
func (r Recap) Totals() HostRecap {
	var t HostRecap
	for _, h := range r.Hosts {
		t.OK += h.OK
		t.Changed += h.Changed
		t.Failed += h.Failed
		t.Skipped += h.Skipped
	}
	t.Elapsed = r.Elapsed
	return t
}

func (h *HostRecap) count(s Status) {
	switch s {
	case StatusOK:
		h.OK++
	case StatusChanged:
		h.Changed++
	case StatusFailed:
		h.Failed++
	case StatusSkipped:
		h.Skipped++
	}
}

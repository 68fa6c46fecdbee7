package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/clusterctl/clusterctl/internal/probe"
)

// WaitFor waits, on the host, until a condition holds: a service that was
// just (re)started is only converged once it is ready, so a play that
// starts one ends with a WaitFor and `verify` right after apply finds it up.
// Waiting changes nothing, so the step is "ok" when the condition holds
// within Timeout and failed otherwise. A dry run checks once: not holding
// after steps that would change the host is "ok, would wait"; not holding
// on a host nothing would change is the failure the real run would see.
type WaitFor struct {
	Label     string
	Condition string        // shell command that exits 0 when ready
	Timeout   time.Duration // wall-clock, however long each try takes; 0 means DefaultWaitTimeout
	// Hint is added to the timeout error: where to look.
	Hint string
}

// DefaultWaitTimeout bounds a WaitFor. Tomcat 9 with a few webapps is up in
// ~6 s on a small host; the margin is for slow disks and cold JVMs.
const DefaultWaitTimeout = 2 * time.Minute

func (w WaitFor) Title() string { return w.Label }

// Bound is how long the wait may take (Bounded).
func (w WaitFor) Bound() time.Duration {
	if w.Timeout <= 0 {
		return DefaultWaitTimeout
	}
	return w.Timeout
}

// Probes: one look, never the wait (a batch must not block on it).
func (w WaitFor) Probes(*Host) []string { return []string{waitCmd(w.Condition, 0)} }

func (w WaitFor) Check(ctx context.Context, h *Host) (*Change, error) {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	if res, ok := probe.Cached(ctx, h.Conn, waitCmd(w.Condition, 0)); ok && res.OK() {
		return nil, nil // so when the run's batch looked, and nothing has changed since
	}
	dry := planOf(ctx)
	wait := timeout
	if dry != nil {
		wait = 0 // a dry run looks once: only the real run starts what it waits for
	}
	// One remote loop instead of one round trip per poll, bounded by the
	// host's clock. The loop cannot cut short a condition that hangs, nor
	// survive a host that stops answering, so the call as a whole has a
	// deadline of its own, late enough that the loop's answer normally
	// comes first.
	rctx, cancel := context.WithTimeout(ctx, wait+waitGrace)
	defer cancel()
	res, err := h.Conn.Run(rctx, waitCmd(w.Condition, wait))
	expired := err != nil && ctx.Err() == nil && rctx.Err() != nil
	if err != nil && !expired {
		return nil, fmt.Errorf("%s: %w", w.Title(), err)
	}
	ok := !expired && res.OK()
	if !ok && dry != nil {
		if before := dry.before(); before != "" {
			return nil, &AssumeError{Reason: fmt.Sprintf("would wait up to %s for %s: not so now, and it depends on steps this run would change first (%s)", timeout, w.Title(), before)}
		}
		return nil, fmt.Errorf("%s: not so now, and no step of this run would change the host before it: the real run would wait %s and fail", w.Title(), timeout)
	}
	if !ok {
		msg := fmt.Sprintf("%s: not ready after %s", w.Title(), timeout)
		if expired {
			msg += fmt.Sprintf(" (and no answer from the host %s later)", waitGrace)
		}
		if w.Hint != "" {
			msg += " (" + w.Hint + ")"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return nil, nil
}

// waitGrace is how much longer than its Timeout a WaitFor lets the remote
// loop run: enough for one more try of a condition that bounds itself (the
// Tomcat probe's `timeout 5`) after the deadline the loop checks.
var waitGrace = 10 * time.Second

// waitCmd tries cond, then once a second, until it holds or the host's
// clock says timeout has passed; 0 tries once. The deadline is wall-clock
// because a slow condition (a Tomcat that accepts and then stalls) would
// otherwise stretch a count of tries far past timeout. `date +%s` has
// whole seconds, so the loop gives up only once the clock is past the
// deadline's second: never sooner than timeout.
func waitCmd(cond string, timeout time.Duration) string {
	try := "{ " + cond + "; } >/dev/null 2>&1"
	if timeout <= 0 {
		return try
	}
	secs := int((timeout + time.Second - 1) / time.Second)
	return fmt.Sprintf(`end=$(( $(date +%%s) + %d )); until %s; do [ "$(date +%%s)" -gt "$end" ] && exit 1; sleep 1; done`, secs, try)
}

package engine

import (
	"context"
	"fmt"
	"time"
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
	Timeout   time.Duration // 0 means DefaultWaitTimeout
	// Hint is added to the timeout error: where to look.
	Hint string
}

// DefaultWaitTimeout bounds a WaitFor. Tomcat 9 with a few webapps is up in
// ~6 s on a small host; the margin is for slow disks and cold JVMs.
const DefaultWaitTimeout = 2 * time.Minute

func (w WaitFor) Title() string { return w.Label }

func (w WaitFor) Check(ctx context.Context, h *Host) (*Change, error) {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	dry := planOf(ctx)
	wait := timeout
	if dry != nil {
		wait = 0 // a dry run looks once: only the real run starts what it waits for
	}
	// One remote loop instead of one round trip per poll; the loop is
	// bounded by the host's clock, the context bounds the session.
	res, err := h.Conn.Run(ctx, waitCmd(w.Condition, wait))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.Title(), err)
	}
	if !res.OK() && dry != nil {
		if before := dry.before(); before != "" {
			return nil, &AssumeError{Reason: fmt.Sprintf("would wait up to %s for %s: not so now, and it depends on steps this run would change first (%s)", timeout, w.Title(), before)}
		}
		return nil, fmt.Errorf("%s: not so now, and no step of this run would change the host before it: the real run would wait %s and fail", w.Title(), timeout)
	}
	if !res.OK() {
		msg := fmt.Sprintf("%s: not ready after %s", w.Title(), timeout)
		if w.Hint != "" {
			msg += " (" + w.Hint + ")"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return nil, nil
}

// waitCmd polls cond every second for at most timeout; 0 checks once.
func waitCmd(cond string, timeout time.Duration) string {
	secs := int(timeout.Seconds())
	return fmt.Sprintf("i=0; while ! { %s; } >/dev/null 2>&1; do i=$((i+1)); [ $i -gt %d ] && exit 1; sleep 1; done", cond, secs)
}

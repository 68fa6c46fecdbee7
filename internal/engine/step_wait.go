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
// within Timeout and failed otherwise; in dry-run it only checks once.
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
	// One remote loop instead of one round trip per poll; the loop is
	// bounded by the host's clock, the context bounds the session.
	res, err := h.Conn.Run(ctx, waitCmd(w.Condition, timeout))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.Title(), err)
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

// waitCmd polls cond every second for at most timeout.
func waitCmd(cond string, timeout time.Duration) string {
	secs := int(timeout.Seconds())
	if secs < 1 {
		secs = 1
	}
	return fmt.Sprintf("i=0; while ! { %s; } >/dev/null 2>&1; do i=$((i+1)); [ $i -gt %d ] && exit 1; sleep 1; done", cond, secs)
}

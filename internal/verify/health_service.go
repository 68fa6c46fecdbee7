package verify

import (
	"context"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func activeCmd(unit string) string { return "systemctl is-active " + shellQuote(unit) }

// checkActive: `systemctl is-active` prints the state even when it fails.
func (r *run) checkActive(ctx context.Context, c remote.Conn, unit string) (Status, string) {
	res, err := r.read(ctx, c, activeCmd(unit))
	if err != nil {
		return fail("%v", err)
	}
	state := strings.TrimSpace(res.Stdout)
	if state == "active" {
		return ok("active")
	}
	if state == "" {
		state = remote.LastLine(res.Stderr)
	}
	return fail("%s is %s (systemctl start %s; see journalctl -u %s)", unit, state, unit, unit)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

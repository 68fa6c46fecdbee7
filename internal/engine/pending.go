package engine

import (
	"context"
	"path"
	"strings"

	"github.com/clusterctl/clusterctl/internal/probe"
)

// Handlers a change notified are remembered on the host until they have
// run. Without this, a run interrupted between writing a config file and
// restarting its service would leave the service on the old config for
// good: on the next run the file step is "ok" and never notifies again.
// The marker is written in the same command as the change's journal
// records (before the change), and removed once the handler succeeded.

// PendingDir holds one empty marker file per handler still to run.
const PendingDir = "pending"

// pendingMarker names the marker of handler in play; both are titles that
// may hold spaces or slashes, so they are reduced to a safe file name.
func pendingMarker(stateDir, play, handler string) string {
	return path.Join(stateDir, PendingDir, markerSlug(play)+"."+markerSlug(handler))
}

func markerSlug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// readPending returns the markers left on h by earlier runs, by file name.
func readPending(ctx context.Context, h *Host, stateDir string) (map[string]bool, error) {
	res, err := h.run(probe.ReadOnly(ctx), "read pending handlers", pendingCmd(stateDir))
	if err != nil {
		return nil, err
	}
	pending := map[string]bool{}
	for _, name := range strings.Fields(res.Stdout) {
		pending[name] = true
	}
	return pending, nil
}

// clearPending removes a handler's marker after it ran.
func clearPending(ctx context.Context, h *Host, marker string) error {
	_, err := h.run(ctx, "clear pending handler", "rm -f "+Quote(marker))
	return err
}

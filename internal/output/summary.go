package output

import (
	"fmt"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// hostStatus is one word for how a host ended: unfinished, failed, changed
// or ok.
func hostStatus(h engine.HostRecap) string {
	switch {
	case h.Unfinished:
		return "unfinished"
	case h.Err != nil:
		return "failed"
	case h.Changed > 0:
		return string(engine.StatusChanged)
	}
	return string(engine.StatusOK)
}

// FinalLine is the one-line verdict of a run, e.g. "3 hosts: 0 failed, 5
// changed", or "... no changes" for a run that changed nothing, so a no-op
// is stated rather than inferred from zeros.
func FinalLine(r engine.Recap) string {
	failed, unfinished := 0, 0
	for _, h := range r.Hosts {
		switch {
		case h.Unfinished:
			unfinished++
		case h.Err != nil:
			failed++
		}
	}
	noun := "hosts"
	if len(r.Hosts) == 1 {
		noun = "host"
	}
	parts := []string{fmt.Sprintf("%d failed", failed)}
	if unfinished > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted", unfinished))
	}
	changed := r.Totals().Changed
	switch {
	case changed == 0:
		parts = append(parts, "no changes")
	case r.DryRun:
		parts = append(parts, fmt.Sprintf("%d would change (dry run)", changed))
	default:
		parts = append(parts, fmt.Sprintf("%d changed", changed))
	}
	return fmt.Sprintf("%d %s: %s", len(r.Hosts), noun, strings.Join(parts, ", "))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

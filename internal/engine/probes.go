package engine

import (
	"context"
	"path"

	"github.com/clusterctl/clusterctl/internal/probe"
)

// Prober is a Step that can name, before it runs, the read-only commands
// its Check will run on h, so that a run reads them for every step in one
// round trip (see package probe). A step that is no Prober, or names too
// few, still works: its reads go to the host one by one.
type Prober interface {
	Probes(h *Host) []string
}

// StepProbes is what s names as its Check's reads on h, if anything.
func StepProbes(s Step, h *Host) []string { return probesOf(s, h) }

func probesOf(s Step, h *Host) []string {
	if p, ok := s.(Prober); ok {
		return p.Probes(h)
	}
	return nil
}

func (c conditional) Probes(h *Host) []string {
	if !c.cond(h) {
		return nil
	}
	return probesOf(c.Step, h)
}

func (n notifying) Probes(h *Host) []string { return probesOf(n.Step, h) }

// PlayProbes is every read the plays' Checks will make on h, and the
// run's own (the pending handlers), in the order they will be made. It
// needs the facts: package queries differ by family.
func PlayProbes(h *Host, plays []Play, opts Options) []string {
	if h.Unreachable() != nil || !h.Facts.Gathered() {
		return nil
	}
	out := []string{pendingCmd(opts.StateDirOrDefault())}
	for _, p := range plays {
		if p.Hosts != nil && !p.Hosts(h) {
			continue
		}
		for _, s := range p.Steps {
			out = append(out, probesOf(s, h)...)
		}
	}
	return out
}

// Prefetch reads cmds on h in one round trip where its connection can
// batch; a batch that fails costs nothing but the round trip, as every
// read then goes to the host on its own.
func Prefetch(ctx context.Context, h *Host, cmds []string) {
	if h.Unreachable() != nil {
		return
	}
	_ = probe.Prefetch(ctx, h.Conn, cmds)
}

// ReadProbe is what ReadFile runs for p: declare it to read p in a batch.
func ReadProbe(p string) string { return probe.ReadCmd(p) }

// ReadFile reads a file with one command rather than over SFTP (see
// probe.ReadFile). exists is false when p is not a file.
func (h *Host) ReadFile(ctx context.Context, p string) (data []byte, exists bool, err error) {
	return probe.ReadFile(ctx, h.Conn, p)
}

func pendingCmd(stateDir string) string {
	return "ls -1 " + Quote(path.Join(stateDir, PendingDir)) + " 2>/dev/null || true"
}

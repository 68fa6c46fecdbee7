package verify

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// declaringConn is a scriptedConn that takes batches (probe.Prefetcher):
// it keeps what each batch declared, and answers the batch's reads as the
// host would, from the script.
type declaringConn struct {
	*scriptedConn
	mu       sync.Mutex
	batches  int
	declared []string
	writes   []string // commands run without probe.ReadOnly
}

func (c *declaringConn) Run(ctx context.Context, cmd string) (remote.Result, error) {
	if !probe.IsReadOnly(ctx) {
		c.mu.Lock()
		c.writes = append(c.writes, cmd)
		c.mu.Unlock()
	}
	return c.scriptedConn.Run(ctx, cmd)
}

func (c *declaringConn) Prefetch(_ context.Context, cmds []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	c.declared = append(c.declared, cmds...)
	return nil
}

// Every command a host's health checks run was declared in the host's one
// batch up front (so on a real connection it was read in one round
// trip) and run as a read (so the batch may serve it); only the
// cluster-wide takeover check, which talks to the proxy's nginx, runs
// its own.
func TestHealthReadsAreDeclaredInOneBatch(t *testing.T) {
	inv := labInventory(0)
	scripted := fakeCluster(t, inv)
	var targets []Target
	conns := map[string]*declaringConn{}
	for _, h := range inv.Hosts {
		c := &declaringConn{scriptedConn: scripted[h.Name]}
		conns[h.Name] = c
		targets = append(targets, Target{Host: h, Conn: c})
	}
	s, err := Run(ctxT(t), inv, targets, Options{Parallel: 3, Timing: fastTiming}, &Collector{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Failed() {
		t.Fatalf("failures: %v", s.FailedNames())
	}
	for name, c := range conns {
		if c.batches != 1 {
			t.Errorf("%s: %d batches, want 1", name, c.batches)
		}
		for _, cmd := range c.ran {
			if strings.HasPrefix(cmd, "req() {") {
				continue // the takeover check (whole.go)
			}
			if !slices.Contains(c.declared, cmd) {
				t.Errorf("%s: health ran %.60q, not declared in its batch", name, cmd)
			}
			if slices.Contains(c.writes, cmd) {
				t.Errorf("%s: health ran %.60q as a change: no batch could serve it", name, cmd)
			}
		}
	}
}

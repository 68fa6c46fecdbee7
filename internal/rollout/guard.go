package rollout

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/memcache"
	"github.com/clusterctl/clusterctl/internal/parallel"
)

// A memcached whose keys cannot be read cannot be handed over, so it must
// not restart: it may hold the only second copy of every session (the
// case: memcached at its connection limit turns every new client away,
// the very state in which an operator raises max_connections). Refusing
// in the rollout comes too late to change nothing: the converge has
// written the new config by then. So a run asks first, before its
// converge: Unreadable probes every running memcached; only when one does
// not answer does the run predict its restarts (a dry-run converge, in
// that cold path only) and Blind refuses the ones that would be blind.

// Unreadable is, per memcached host of the run whose memcached runs, why
// its items cannot be read now. A memcached that answers is not in it, nor
// one that listens nowhere: it holds nothing a restart could lose.
func (e *SSH) Unreadable(ctx context.Context) map[string]error {
	hosts := e.MemcachedHosts()
	errs := make([]error, len(hosts))
	stats := func(mc *memcache.Memcache) error {
		_, err := mc.Stats(ctx)
		return err
	}
	parallel.Each(len(hosts), len(hosts), func(i int) {
		// Where it should listen first: the answer needs no read of its
		// sockets, so the guard runs beside the state's batch.
		if e.node(hosts[i]) != "" && e.withMemcacheAt(ctx, hosts[i], e.node(hosts[i]), stats) == nil {
			return
		}
		addr, listening := e.listening(ctx, hosts[i])
		if !listening {
			return
		}
		errs[i] = e.withMemcacheAt(ctx, hosts[i], addr, stats)
	})
	out := map[string]error{}
	for i, err := range errs {
		if err != nil {
			out[hosts[i]] = err
		}
	}
	return out
}

// Blind is the refusal of the planned memcached restarts whose keys
// cannot be read (unreadable, from Unreadable), or nil.
func Blind(plan Plan, unreadable map[string]error) error {
	var hosts, why []string
	for h := range plan.Memcached {
		if unreadable[h] != nil {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		why = append(why, fmt.Sprintf("%s: %v", h, unreadable[h]))
	}
	return fmt.Errorf("this run would restart memcached on %s, whose keys cannot be read to hand them over (the restart would drop the only second copy of sessions); nothing was changed:\n  %s\n"+
		"free its connections first (`ss -tn state established` on the host shows who holds them), then run again",
		strings.Join(hosts, ", "), strings.Join(why, "\n  "))
}

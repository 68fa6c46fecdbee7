package rollout

import (
	"context"
	"fmt"
	"github.com/clusterctl/clusterctl/internal/topology"
	"net"
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/memcache"
	"github.com/clusterctl/clusterctl/internal/msmhealth"
	"github.com/clusterctl/clusterctl/playbooks"
)

// A memcached is the only second copy of the sessions whose ids name it,
// and a restart empties it: memcached restarts roll one host at a time,
// before any Tomcat's, and hand their keys over. Every key is read (with
// its flags and expiry) through the host's own SSH connection, memcached
// restarts, and the keys are written back with `add`, so a session MSM
// wrote anew meanwhile keeps its newer copy. The restart also leaves MSM's
// client in some Tomcat with a half-closed connection (MSM-FACTS.md), so
// each turn ends only when every Tomcat can take over every other's
// sessions again, healed if need be. The dump lives in this process's
// memory only: a run killed between the dump and the restore loses what a
// plain restart would.

// tcpDialer is transport.Client's tunnel (an SSH direct-tcpip channel).
type tcpDialer interface {
	DialTCP(ctx context.Context, addr string) (net.Conn, error)
}

// memcachedStart bounds the wait for a restarted memcached to answer.
const memcachedStart = 30 * time.Second

// memcachedTurn hands over, restarts and restores the memcached on h.
func (r *roller) memcachedTurn(ctx context.Context, h *engine.Host) error {
	name := h.Name()
	var node string
	for _, n := range r.cfg.Cluster.Topo.Nodes {
		if n.Host == name {
			node = net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
		}
	}
	if r.cfg.Engine.DryRun {
		r.cfg.Sink.Emit(engine.Event{Type: engine.EventStep, Time: time.Now(), Host: name, Play: Play, Step: "restart memcached",
			Status: engine.StatusChanged, DryRun: true, Summary: "would hand over its keys, restart memcached, write them back, wait until the cluster is whole"})
		return nil
	}
	d, ok := h.Conn.(tcpDialer)
	if !ok || node == "" {
		return fmt.Errorf("%s: cannot reach its memcached through the SSH connection (no tunnel or no node)", name)
	}
	t0 := time.Now()
	items, err := withMemcache(ctx, d, node, func(m *memcache.Memcache) ([]memcache.Item, error) { return m.Dump(ctx) })
	if err != nil {
		return fmt.Errorf("%s: reading memcached's keys before the restart: %w (nothing was restarted)", name, err)
	}
	r.phase(name, "memcached dump", t0)
	t0 = time.Now()
	if err := r.step(ctx, h, playbooks.RestartMemcachedStep()); err != nil {
		return err
	}
	var added, kept int
	deadline := time.Now().Add(memcachedStart)
	for {
		_, err = withMemcache(ctx, d, node, func(m *memcache.Memcache) ([]memcache.Item, error) {
			added, kept, err = m.Restore(ctx, items, time.Now())
			return nil, err
		})
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("%s: writing %d keys back after the restart: %w", name, len(items), err)
	}
	r.phase(name, "memcached restart+restore", t0)
	r.cfg.Sink.Emit(engine.Event{Type: engine.EventStep, Time: time.Now(), Host: name, Play: Play, Step: "hand over memcached's keys",
		Status: engine.StatusChanged, Duration: time.Since(t0),
		Summary: fmt.Sprintf("%d keys written back, %d already written anew by MSM", added, kept)})
	if r.cfg.Disruptive {
		return nil // the Tomcats use the new settings only once they rolled
	}
	return r.ensureHealthy(ctx, msmhealth.Whole(r.cfg.Cluster.Topo, topology.ProbeContext+"/"))
}

func withMemcache(ctx context.Context, d tcpDialer, addr string, f func(*memcache.Memcache) ([]memcache.Item, error)) ([]memcache.Item, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	nc, err := d.DialTCP(dctx, addr)
	cancel()
	if err != nil {
		return nil, err
	}
	m := memcache.New(nc)
	defer m.Close()
	return f(m)
}

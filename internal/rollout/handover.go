package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/memcache"
	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/playbooks"
)

// A memcached is the only second copy of the sessions whose ids name it,
// and a restart empties it (docs/msm.md). So its keys are handed over:
// every key is read (value, flags, expiry, CAS) through the host's own SSH
// connection and written to a dump file on the host (mode 0600: session
// data), memcached restarts, and the keys are written back with `add`, so
// a session MSM wrote anew meanwhile keeps its newer copy. The file lives
// from before the restart until the keys are back: a run killed anywhere
// in between leaves it for the next run, which finishes the hand-over.
//
// Right before the restart the dump catches up with what MSM wrote since
// it was taken (a new CAS is a new write), so no session goes back in time
// to the version first read; what remains is the time between that last
// read and the restart itself, a few milliseconds. Expiry is judged on
// memcached's own clock (`stats` time), never the operator's.

// dump is the file's content.
type dump struct {
	// Invocation is memcached's systemd InvocationID when the dump was
	// taken: the same one later means it never restarted, and every key is
	// still in it.
	Invocation string          `json:"invocation"`
	Taken      int64           `json:"taken"` // memcached's clock
	Items      []memcache.Item `json:"items"`
}

func (e *SSH) dumpPath() string { return dumpPath(e.Engine) }

func (e *SSH) stateDir() string { return e.Engine.StateDirOrDefault() }

// dumpPath is where a hand-over's dump lives on a memcached host.
func dumpPath(opts engine.Options) string {
	return path.Join(opts.StateDirOrDefault(), "handover", "memcached.json")
}

// memcachedStart bounds the wait for a restarted memcached to answer.
const memcachedStart = 30 * time.Second

// tcpDialer is transport.Client's tunnel (an SSH direct-tcpip channel).
type tcpDialer interface {
	DialTCP(ctx context.Context, addr string) (net.Conn, error)
}

func (e *SSH) node(host string) string {
	for _, n := range e.Cluster.Topo.Nodes {
		if n.Host == host {
			return net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
		}
	}
	return ""
}

// liveAddr is where host's memcached listens now, read from its sockets,
// not from the inventory: an apply that changes memcached.port dumps the
// keys from the old port and writes them back to the new one. With no
// memcached listening it is the configured node, whose refused connection
// says so.
func (e *SSH) liveAddr(ctx context.Context, host string) string {
	if a, listening := e.listening(ctx, host); listening {
		return a
	}
	return e.node(host)
}

// listening is liveAddr, and whether a memcached process listens at all;
// sockets that cannot be read count as listening at the configured node.
func (e *SSH) listening(ctx context.Context, host string) (string, bool) {
	node := e.node(host)
	res, err := e.host(host).Conn.Run(probe.ReadOnly(ctx), listenersProbe)
	if err != nil || !res.OK() {
		return node, true
	}
	a := memcachedListener(res.Stdout, node)
	return a, a != ""
}

const listenersProbe = "ss -Hltnp"

// Probes are the reads a rollout starts with on host h (the state it
// starts from: what each proxy drains, which Tomcats serve, where each
// memcached listens, whether a hand-over was left), for the batch a run
// reads before its converge. The
// gates the rollout waits on are never batched: they must see now.
func Probes(c *playbooks.Cluster, h *engine.Host, opts engine.Options) []string {
	var out []string
	ih, ok := c.Inv.Host(h.Name())
	if !ok {
		return nil
	}
	if ih.Has(inventory.RoleProxy) {
		out = append(out, playbooks.DrainedProbe, c.UpstreamsProbe(h))
	}
	if ih.Has(inventory.RoleTomcat) {
		// Ready's look when the port is the one the Tomcat last rolled
		// with (after a port change it misses, and runs live).
		out = append(out, playbooks.LiveSettingsProbe(), servesCmd(c, h.Name(), c.Inv.Tomcat.Port))
	}
	if ih.Has(inventory.RoleMemcached) {
		out = append(out, listenersProbe, handoverLeftCmd(opts))
	}
	return out
}

// memcachedListener picks, from `ss -Hltnp` lines, the address a local
// client reaches memcached at: the node's own address if memcached listens
// there, else a loopback or wildcard one (dialled on loopback), else the
// first it listens on; "" when no memcached process listens.
func memcachedListener(ss, node string) string {
	nodeHost, _, _ := net.SplitHostPort(node)
	var first, local string
	for _, line := range strings.Split(ss, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.Contains(line, `(("memcached",`) {
			continue
		}
		h, port, err := net.SplitHostPort(f[3])
		if err != nil {
			continue
		}
		if i := strings.IndexByte(h, '%'); i >= 0 { // "127.0.0.1%lo"
			h = h[:i]
		}
		switch {
		case h == nodeHost:
			return net.JoinHostPort(h, port)
		case h == "*" || h == "0.0.0.0" || h == "::" || h == "127.0.0.1":
			if local == "" {
				local = net.JoinHostPort("127.0.0.1", port)
			}
		case h == "::1":
			if local == "" {
				local = net.JoinHostPort(h, port)
			}
		}
		if first == "" {
			first = net.JoinHostPort(h, port)
		}
	}
	if local != "" {
		return local
	}
	return first
}

// withMemcache runs f on a fresh connection to host's memcached, where it
// listens now.
func (e *SSH) withMemcache(ctx context.Context, host string, f func(*memcache.Memcache) error) error {
	return e.withMemcacheAt(ctx, host, e.liveAddr(ctx, host), f)
}

func (e *SSH) withMemcacheAt(ctx context.Context, host, addr string, f func(*memcache.Memcache) error) error {
	d, ok := e.host(host).Conn.(tcpDialer)
	if !ok || e.node(host) == "" {
		return fmt.Errorf("%s: cannot reach its memcached through the SSH connection (no tunnel or no node)", host)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	nc, err := d.DialTCP(dctx, addr)
	cancel()
	if err != nil {
		return fmt.Errorf("connect to memcached at %s: %w", addr, err)
	}
	m := memcache.New(nc)
	defer m.Close()
	if err := f(m); err != nil {
		if strings.Contains(err.Error(), "Too many open connections") {
			return fmt.Errorf("memcached at %s refuses connections: it is at its connection limit (memcached.max_connections): %w", addr, err)
		}
		return err
	}
	return nil
}

func (e *SSH) invocation(ctx context.Context, host string) (string, error) {
	res, err := e.host(host).Conn.Run(ctx, "systemctl show -p InvocationID --value memcached")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Stdout), nil
}

func (e *SSH) HandoverLeft(ctx context.Context, host string) (bool, error) {
	res, err := e.host(host).Conn.Run(probe.ReadOnly(ctx), handoverLeftCmd(e.Engine))
	if err != nil {
		return false, err
	}
	return res.OK(), nil
}

// handoverLeftCmd succeeds when a hand-over dump is on the host.
func handoverLeftCmd(opts engine.Options) string {
	return "test -e " + engine.Quote(dumpPath(opts))
}

func (e *SSH) readDump(ctx context.Context, host string) (dump, error) {
	var d dump
	b, ok, err := e.host(host).Conn.ReadFile(ctx, e.dumpPath())
	if err != nil || !ok {
		return d, fmt.Errorf("%s: read the hand-over dump %s: exists %v, %v", host, e.dumpPath(), ok, err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%s: the hand-over dump %s is damaged: %w; move it away to go on without it", host, e.dumpPath(), err)
	}
	return d, nil
}

func (e *SSH) writeDump(ctx context.Context, host string, d dump) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	h := e.host(host)
	if res, err := h.Conn.Run(ctx, "mkdir -p -m 0700 "+engine.Quote(path.Dir(e.dumpPath()))); err != nil || !res.OK() {
		return fmt.Errorf("%s: create %s: %v %s", host, path.Dir(e.dumpPath()), err, res.Stderr)
	}
	return h.Conn.WriteFile(ctx, e.dumpPath(), b, remote.FileMeta{Mode: 0o600})
}

func (e *SSH) Dump(ctx context.Context, host string) error {
	t0 := time.Now()
	if e.Engine.DryRun {
		e.emit(host, "dump memcached's keys", "would read every key to "+e.dumpPath(), t0, nil)
		return nil
	}
	inv, err := e.invocation(ctx, host)
	if err != nil {
		return err
	}
	var d dump
	err = e.withMemcache(ctx, host, func(m *memcache.Memcache) error {
		st, err := m.Stats(ctx)
		if err != nil {
			return err
		}
		d.Taken, _ = strconv.ParseInt(st["time"], 10, 64)
		d.Items, err = m.Dump(ctx)
		return err
	})
	if err == nil {
		d.Invocation = inv
		err = e.writeDump(ctx, host, d)
	}
	bytes := 0
	for _, it := range d.Items {
		bytes += len(it.Key) + len(it.Value)
	}
	e.emit(host, "dump memcached's keys", fmt.Sprintf("%d keys (%d bytes) in %s", len(d.Items), bytes, e.dumpPath()), t0, err)
	return err
}

func (e *SSH) RestartMemcached(ctx context.Context, host string) error {
	if e.Engine.DryRun {
		return e.step(ctx, e.host(host), playbooks.RestartMemcachedStep())
	}
	t0 := time.Now()
	d, err := e.readDump(ctx, host)
	if err != nil {
		return err
	}
	var changed int
	err = e.withMemcache(ctx, host, func(m *memcache.Memcache) error {
		d.Items, changed, err = m.CatchUp(ctx, d.Items)
		return err
	})
	if err == nil && changed > 0 {
		err = e.writeDump(ctx, host, d)
	}
	e.emit(host, "catch up with writes since the dump", fmt.Sprintf("%d keys written or deleted since the dump", changed), t0, err)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was restarted)", host, err)
	}
	return e.step(ctx, e.host(host), playbooks.RestartMemcachedStep())
}

func (e *SSH) Restore(ctx context.Context, host string) (RestoreInfo, error) {
	t0 := time.Now()
	if e.Engine.DryRun {
		e.emit(host, "restore memcached's keys", "would write every key back and wait until the cluster is whole", t0, nil)
		return RestoreInfo{}, nil
	}
	d, err := e.readDump(ctx, host)
	if err != nil {
		return RestoreInfo{}, err
	}
	inv, err := e.invocation(ctx, host)
	if err != nil {
		return RestoreInfo{}, err
	}
	var ri RestoreInfo
	if inv == d.Invocation && inv != "" {
		ri.NotNeeded = true
		err = e.Discard(ctx, host)
		e.emit(host, "restore memcached's keys", "memcached never restarted since the dump: every key is still in it", t0, err)
		return ri, err
	}
	// A run killed in the middle of the restart may have left memcached
	// stopped: start it (a no-op when it runs).
	if res, err := e.host(host).Conn.Run(ctx, "systemctl start memcached"); err != nil || !res.OK() {
		return ri, fmt.Errorf("%s: start memcached: %v %s", host, err, res.Stderr)
	}
	deadline := time.Now().Add(memcachedStart)
	for {
		err = e.withMemcache(ctx, host, func(m *memcache.Memcache) error {
			st, err := m.Stats(ctx)
			if err != nil {
				return err
			}
			now, _ := strconv.ParseInt(st["time"], 10, 64)
			ev0, _ := strconv.Atoi(st["evictions"])
			for _, it := range d.Items {
				if it.Exp != 0 && it.Exp <= now {
					ri.Expired++
				}
			}
			if ri.Added, ri.Kept, err = m.Restore(ctx, d.Items, now); err != nil {
				return err
			}
			st, err = m.Stats(ctx)
			if err != nil {
				return err
			}
			ev1, _ := strconv.Atoi(st["evictions"])
			ri.Evicted = ev1 - ev0
			return nil
		})
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err == nil {
		err = e.Discard(ctx, host)
	}
	e.emit(host, "restore memcached's keys", fmt.Sprintf("%d keys written back, %d already written anew by MSM, %d expired, %d evicted", ri.Added, ri.Kept, ri.Expired, ri.Evicted), t0, err)
	if err != nil {
		return ri, fmt.Errorf("%s: writing %d keys back after the restart: %w (the dump stays in %s for the next run)", host, len(d.Items), err, e.dumpPath())
	}
	return ri, nil
}

func (e *SSH) Discard(ctx context.Context, host string) error {
	if e.Engine.DryRun {
		return nil
	}
	res, err := e.host(host).Conn.Run(ctx, "rm -f "+engine.Quote(e.dumpPath()))
	if err == nil && !res.OK() {
		err = res.ExitError("remove the hand-over dump")
	}
	return err
}

// Package probe reads a host's state in one round trip: the read-only
// commands a run will need (the preflight's, every step's Check) are
// declared up front, run together as one remote command, and their results
// are served to the Runs that ask for them.
//
// Each SSH command costs a session channel and one to three round trips:
// cheap on a LAN, seconds per run at the 30-100 ms an operator sees over a
// VPN or through a bastion. A no-op apply is almost only reads, so batching
// them makes it cost a handful of round trips per host whatever the
// latency.
//
// Correctness does not depend on the declarations being right:
//   - a result is served only to a Run whose context is marked ReadOnly
//     (a Check, a preflight read), never to one that changes something,
//     and at most as often as the command was declared;
//   - any other Run, WriteFile or Upload may change the host, so it drops
//     every result not yet served: a read after a change always goes to
//     the host;
//   - a read-only Run that was not declared just runs (a miss, counted).
//
// So a wrong or missing declaration costs a round trip, never a stale read.
package probe

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/internal/remote"
)

type readOnlyKey struct{}

// ReadOnly marks ctx as that of code that only reads the host (a step's
// Check, a preflight check): its Runs may be served from a batch.
func ReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

type bookkeepingKey struct{}

// Bookkeeping marks ctx as that of code that changes only clusterctl's
// own records on the host, which no probe reads (the run lock and its
// heartbeat): its Runs neither are served nor drop the batch.
func Bookkeeping(ctx context.Context) context.Context {
	return context.WithValue(ctx, bookkeepingKey{}, true)
}

func isBookkeeping(ctx context.Context) bool {
	v, _ := ctx.Value(bookkeepingKey{}).(bool)
	return v
}

// IsReadOnly reports whether ctx was marked by ReadOnly.
func IsReadOnly(ctx context.Context) bool {
	v, _ := ctx.Value(readOnlyKey{}).(bool)
	return v
}

// Prefetcher is a connection that can read declared commands in one go.
// Callers that only hold a remote.Conn test for it, so a Conn without
// batching (a test double, a local executor) works unchanged.
type Prefetcher interface {
	Prefetch(ctx context.Context, cmds []string) error
}

// Prefetch runs cmds in one batch when conn can, and does nothing when it
// cannot: the reads then happen one by one, as they would anyway.
func Prefetch(ctx context.Context, conn remote.Conn, cmds []string) error {
	if p, ok := conn.(Prefetcher); ok {
		return p.Prefetch(ctx, cmds)
	}
	return nil
}

// Stats counts what a Conn did with the commands it was asked to run.
type Stats struct {
	Batches int `json:"batches"` // remote commands that read a batch
	Served  int `json:"served"`  // Runs answered from a batch
	Missed  int `json:"missed"`  // read-only Runs that were not in a batch
	Dropped int `json:"dropped"` // batched results a change made stale, never served
}

// Conn is a remote.Conn with a batch of prefetched reads in front of it.
type Conn struct {
	remote.Conn

	mu     sync.Mutex
	cached map[string][]remote.Result // per command, in the order declared
	stats  Stats
}

var _ Prefetcher = (*Conn)(nil)

// Wrap puts a batch in front of conn.
func Wrap(conn remote.Conn) *Conn { return &Conn{Conn: conn} }

// Stats is what the connection has done so far.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Sessions passes on the SSH session count of the connection underneath.
func (c *Conn) Sessions() int64 {
	if s, ok := c.Conn.(interface{ Sessions() int64 }); ok {
		return s.Sessions()
	}
	return 0
}

// DialTCP passes on the tunnel of the connection underneath (a TCP
// connection from the host, for memcached's keys): it reads no state.
func (c *Conn) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	d, ok := c.Conn.(interface {
		DialTCP(ctx context.Context, addr string) (net.Conn, error)
	})
	if !ok {
		return nil, fmt.Errorf("%s: the connection has no tunnel", c.Host())
	}
	return d.DialTCP(ctx, addr)
}

// Prefetch runs every command of cmds once, in one remote command, and
// keeps each result for as many read-only Runs as cmds names it. Results
// of an earlier batch not yet served are kept (the host has not changed
// since, or they would have been dropped). A failed batch is an error for
// the caller to ignore or report: nothing is cached, and every read then
// runs on its own.
func (c *Conn) Prefetch(ctx context.Context, cmds []string) error {
	want := map[string]int{}
	var uniq []string
	for _, cmd := range cmds {
		if want[cmd] == 0 {
			uniq = append(uniq, cmd)
		}
		want[cmd]++
	}
	if len(uniq) == 0 {
		return nil
	}
	boundary := NewBoundary()
	res, err := c.Conn.Run(ctx, Script(uniq, boundary))
	if err != nil {
		return fmt.Errorf("read %d probes in one batch: %w", len(uniq), err)
	}
	results, err := Parse(res.Stdout, len(uniq), boundary)
	if err != nil {
		return fmt.Errorf("read %d probes in one batch: %w (exit %d: %s)", len(uniq), err, res.ExitCode, remote.LastLine(res.Stderr))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Batches++
	if c.cached == nil {
		c.cached = map[string][]remote.Result{}
	}
	for i, cmd := range uniq {
		for range want[cmd] {
			c.cached[cmd] = append(c.cached[cmd], results[i])
		}
	}
	return nil
}

// Cached returns a batched result for cmd, if conn holds one, without
// ever going to the host: for a read whose live form differs (a wait
// that polls, where the batch took one look).
func Cached(ctx context.Context, conn remote.Conn, cmd string) (remote.Result, bool) {
	c, ok := conn.(*Conn)
	if !ok || !IsReadOnly(ctx) {
		return remote.Result{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.cached[cmd]
	if len(q) == 0 {
		return remote.Result{}, false
	}
	if len(q) == 1 {
		delete(c.cached, cmd)
	} else {
		c.cached[cmd] = q[1:]
	}
	c.stats.Served++
	return q[0], true
}

// Run answers a read-only Run from the batch when it can; any other Run
// may change the host, so it drops the batch first.
func (c *Conn) Run(ctx context.Context, cmd string) (remote.Result, error) {
	c.mu.Lock()
	switch {
	case isBookkeeping(ctx):
	case IsReadOnly(ctx):
		if q := c.cached[cmd]; len(q) > 0 {
			res := q[0]
			if len(q) == 1 {
				delete(c.cached, cmd)
			} else {
				c.cached[cmd] = q[1:]
			}
			c.stats.Served++
			c.mu.Unlock()
			return res, nil
		}
		c.stats.Missed++
	default:
		c.dropLocked()
	}
	c.mu.Unlock()
	return c.Conn.Run(ctx, cmd)
}

// WriteFile changes the host: the batch is dropped first.
func (c *Conn) WriteFile(ctx context.Context, path string, data []byte, meta remote.FileMeta) error {
	c.drop()
	return c.Conn.WriteFile(ctx, path, data, meta)
}

// Upload changes the host: the batch is dropped first.
func (c *Conn) Upload(ctx context.Context, localPath, path string, meta remote.FileMeta) (bool, error) {
	c.drop()
	return c.Conn.Upload(ctx, localPath, path, meta)
}

func (c *Conn) drop() {
	c.mu.Lock()
	c.dropLocked()
	c.mu.Unlock()
}

func (c *Conn) dropLocked() {
	for _, q := range c.cached {
		c.stats.Dropped += len(q)
	}
	c.cached = nil
}

// Script is one POSIX sh command that runs each of cmds in a subshell
// with no stdin (as Run would, one by one) and prints, for each, its
// stdout, a line "\nBOUNDARY o INDEX EXIT", its stderr and a line
// "\nBOUNDARY e INDEX". Parse needs the same boundary.
//
// The framing costs one fork per command (the subshell) and a cat only
// when the command wrote to stderr: a batch of 40 checks used to spend
// half its time in the wc and cat of length headers. The boundary is
// random per batch, so no output holds it but the script's own lines.
func Script(cmds []string, boundary string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `t=$(mktemp -d) || exit 97; trap 'rm -rf "$t"' EXIT; b=%s; `, boundary)
	for i, cmd := range cmds {
		// The newline before ")" ends a trailing comment in cmd.
		fmt.Fprintf(&b, "( %s\n) </dev/null 2>\"$t/e\"; printf '\\n%%s o %d %%d\\n' \"$b\" $?; [ -s \"$t/e\" ] && cat \"$t/e\"; printf '\\n%%s e %d\\n' \"$b\"; ",
			cmd, i, i)
	}
	return b.String()
}

// NewBoundary returns a fresh boundary for Script and Parse.
func NewBoundary() string { return rand.Text() }

// Parse reads n results from the output of Script(cmds, boundary).
func Parse(out string, n int, boundary string) ([]remote.Result, error) {
	results := make([]remote.Result, n)
	rest := out
	for i := range n {
		outMark := "\n" + boundary + " o " + strconv.Itoa(i) + " "
		k := strings.Index(rest, outMark)
		if k < 0 {
			return nil, fmt.Errorf("result %d of %d missing", i+1, n)
		}
		stdout := rest[:k]
		rest = rest[k+len(outMark):]
		nl := strings.IndexByte(rest, '\n')
		code, err := strconv.Atoi(rest[:max(nl, 0)])
		if nl < 0 || err != nil {
			return nil, fmt.Errorf("result %d of %d: no exit status", i+1, n)
		}
		rest = rest[nl+1:]
		errMark := "\n" + boundary + " e " + strconv.Itoa(i) + "\n"
		k = strings.Index(rest, errMark)
		if k < 0 {
			return nil, fmt.Errorf("result %d of %d: stderr cut short", i+1, n)
		}
		results[i] = remote.Result{Stdout: stdout, Stderr: rest[:k], ExitCode: code}
		rest = rest[k+len(errMark):]
	}
	return results, nil
}

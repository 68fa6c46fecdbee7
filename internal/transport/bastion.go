package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// maxHops bounds a bastion chain. A chain is built from the inventory and
// ~/.ssh/config, where a loop (a's ProxyJump is b, b's is a) is a typo, not
// a topology; OpenSSH has no bound and hangs on one.
const maxHops = 8

// Jumps holds the run's bastion connections, so that every host behind a
// bastion shares one SSH connection to it (and a bastion behind another
// shares that one's). A bastion connection only ever carries direct-tcpip
// channels: it runs no command and needs no sudo.
type Jumps struct {
	mu    sync.Mutex
	hops  map[string]*hop
	close bool
}

// hop is one bastion, dialled by whoever asked first; the others wait for
// that dial instead of opening their own.
type hop struct {
	ready chan struct{}
	c     *Client
	err   error
}

// NewJumps returns an empty set of bastion connections; Close ends them.
func NewJumps() *Jumps { return &Jumps{hops: map[string]*hop{}} }

// Close ends every bastion connection. Hosts behind them lose theirs, so
// it comes after the hosts' own Close.
func (j *Jumps) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	hops := j.hops
	j.hops, j.close = map[string]*hop{}, true
	j.mu.Unlock()
	for _, h := range hops {
		<-h.ready
		if h.c != nil {
			h.c.Close()
		}
	}
	return nil
}

// client returns the connection to the bastion cfg names, dialling it on
// first use. The hosts that ask while a dial is under way wait for it and
// share its outcome: behind a bastion that refuses us, they all report
// that refusal instead of each trying again. A connection that drops
// later is redialled by Client.current like any.
func (j *Jumps) client(ctx context.Context, cfg Config) (*Client, error) {
	key := hopKey(&cfg)
	j.mu.Lock()
	if j.close {
		j.mu.Unlock()
		return nil, &Error{Host: cfg.Host, Msg: "bastion connections already closed", Err: net.ErrClosed}
	}
	h, ok := j.hops[key]
	if !ok {
		h = &hop{ready: make(chan struct{})}
		j.hops[key] = h
	}
	j.mu.Unlock()
	if !ok {
		h.c, h.err = open(ctx, cfg)
		if h.err != nil {
			// The hosts waiting now share the failure; a later dial (the
			// next round of verify --repeat) tries again.
			j.mu.Lock()
			if j.hops[key] == h {
				delete(j.hops, key)
			}
			j.mu.Unlock()
		}
		close(h.ready)
	}
	select {
	case <-h.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return h.c, h.err
}

// Dial opens a TCP connection to addr from bastion (dialled on first use
// and shared like a host's): how traffic other than SSH, such as the user
// simulator's HTTP to a proxy, reaches a network only a bastion can.
func (j *Jumps) Dial(ctx context.Context, bastion Config, addr string) (net.Conn, error) {
	b, err := j.client(ctx, bastionConfig(bastion, j))
	if err != nil {
		return nil, err
	}
	return b.DialTCP(ctx, addr)
}

// hopKey identifies a bastion connection: who logs in where, through which
// chain. Two hosts naming the same bastion by the same settings share it.
func hopKey(cfg *Config) string {
	var b strings.Builder
	for c := cfg; c != nil; c = c.Bastion {
		fmt.Fprintf(&b, "%s@%s,", c.User, c.addr())
	}
	return b.String()
}

// bastionConfig fills in a bastion's defaults and its name in messages:
// "bastion root@10.250.0.8:22", so that a refused host key or login says
// which machine refused, not only which host was wanted behind it.
func bastionConfig(b Config, jumps *Jumps) Config {
	b.Jumps = jumps
	b = b.withDefaults()
	if b.Host == "" || b.Host == b.Address {
		b.Host = "bastion " + b.User + "@" + net.JoinHostPort(b.Address, strconv.Itoa(b.Port))
	}
	return b
}

// checkChain refuses a chain that loops or is absurdly long before any
// connection is made.
func checkChain(cfg Config) error {
	n := 0
	for b := cfg.Bastion; b != nil; b = b.Bastion {
		if n++; n > maxHops {
			return fmt.Errorf("more than %d bastions in a row (does a bastion name itself, or one before it, as its bastion?)", maxHops)
		}
	}
	return nil
}

// dialVia opens the TCP connection to addr from the last bastion of the
// chain. Errors name the bastion: what refused is a different machine
// from the one that was wanted.
func (c *Client) dialVia(ctx context.Context, addr string) (net.Conn, error) {
	b, err := c.cfg.Jumps.client(ctx, bastionConfig(*c.cfg.Bastion, c.cfg.Jumps))
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return nil, c.errorf(err, "via %s", te.Error())
		}
		return nil, c.errorf(err, "via bastion %s: %v", c.cfg.Bastion.addr(), err)
	}
	nc, err := b.DialTCP(ctx, addr)
	if err != nil {
		msg := err.Error()
		var te *Error
		if errors.As(err, &te) {
			msg = strings.TrimPrefix(te.Msg, "tunnel to "+addr+": ")
		}
		return nil, c.errorf(err, "connect %s via %s: %s", addr, b.cfg.Host, msg)
	}
	return nc, nil
}

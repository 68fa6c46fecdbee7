// Package netdelay gives the lab a real network's round-trip time: a TCP
// relay on loopback that holds every byte for a fixed time in each
// direction before passing it on. The lab's kernel has no netem (no
// sch_netem module, no tc qdisc to add), and a userspace relay needs
// none; benchmarks point an inventory's hosts[].ssh.address at a relay
// while the cluster's own addresses stay on the bridge, so SSH (and what
// is tunnelled through it) sees the delay and the cluster does not.
//
// Only lab traffic is relayed: a relay listens on 127.0.0.1 and forwards
// to loopback or the lab bridge's subnet, nowhere else.
package netdelay

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// LabSubnet is the lab bridge's (br-lab) subnet, the one non-loopback
// network a relay may forward to.
var LabSubnet = netip.MustParsePrefix("10.250.0.0/24")

// chunkQueue bounds what one direction holds in flight: at 32 KiB a read,
// 64 MiB, far more than an SSH window (2 MiB), so the relay never throttles
// a transfer the real link would carry.
const (
	readSize   = 32 << 10
	chunkQueue = 2048
)

// Relay accepts on a loopback port and forwards each connection to its
// target, delaying every byte by OneWay in each direction (so RTT is
// twice that).
type Relay struct {
	OneWay time.Duration
	target string
	ln     net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on 127.0.0.1 (a free port) and relays to target
// ("ip:port"), which must be on loopback or the lab's subnet.
func Start(target string, oneWay time.Duration) (*Relay, error) {
	ap, err := netip.ParseAddrPort(target)
	if err != nil {
		return nil, fmt.Errorf("netdelay: target %q: want ip:port: %w", target, err)
	}
	if ip := ap.Addr().Unmap(); !ip.IsLoopback() && !LabSubnet.Contains(ip) {
		return nil, fmt.Errorf("netdelay: target %s is neither loopback nor on the lab bridge (%s): refused", target, LabSubnet)
	}
	if oneWay < 0 {
		return nil, fmt.Errorf("netdelay: negative delay %s", oneWay)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{OneWay: oneWay, target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr is where clients connect.
func (r *Relay) Addr() *net.TCPAddr { return r.ln.Addr().(*net.TCPAddr) }

// Close stops accepting and cuts every relayed connection.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(c) {
			c.Close()
			return
		}
		r.wg.Add(1)
		go r.serve(c)
	}
}

// track registers c for Close; false once the relay is closing.
func (r *Relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Relay) untrack(cs ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		delete(r.conns, c)
		c.Close()
	}
}

// serve relays one connection. The client's connect returned at once
// (loopback), so the SYN's trip is taken here: the target is dialled one
// delay later, and the server's first bytes (an SSH banner) then reach
// the client one round trip after it connected, as on a real link.
func (r *Relay) serve(client net.Conn) {
	defer r.wg.Done()
	time.Sleep(r.OneWay)
	server, err := net.DialTimeout("tcp", r.target, 10*time.Second)
	if err != nil {
		r.untrack(client)
		return
	}
	if !r.track(server) {
		server.Close()
		r.untrack(client)
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.pipe(server, client) }()
	go func() { defer wg.Done(); r.pipe(client, server) }()
	wg.Wait()
	r.untrack(client, server)
}

type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each read delivered OneWay after it arrived and
// in order; src's EOF becomes dst's half-close once everything before it
// is delivered. A write error cuts both sides (the peer is gone).
func (r *Relay) pipe(dst, src net.Conn) {
	q := make(chan chunk, chunkQueue)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range q {
			if d := time.Until(c.due); d > 0 {
				time.Sleep(d)
			}
			if _, err := dst.Write(c.data); err != nil {
				src.Close()
				for range q { // let the reader finish
				}
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	buf := make([]byte, readSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			q <- chunk{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(r.OneWay)}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			break
		}
	}
	close(q)
	<-done
}

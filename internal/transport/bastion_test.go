package transport

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// dialled is how many bastion connections are open or being opened.
func dialled(j *Jumps) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.hops)
}

// bastionFor is a Config reaching f's server as a bastion.
func bastionFor(t testing.TB, f *fixture) *Config {
	t.Helper()
	b := f.cfg
	b.Host = "" // the bastion names itself in messages
	return &b
}

// behind is a fixture reached through the bastion of fixture via, with the
// same client key.
func behind(t testing.TB, via *fixture, b *Config, jumps *Jumps) *fixture {
	t.Helper()
	f := newFixtureKey(t, via.key)
	f.cfg.Bastion = b
	f.cfg.Jumps = jumps
	return f
}

func TestBastionOneConnectionSharedByEveryHostBehindIt(t *testing.T) {
	bf := newFixture(t)
	b := bastionFor(t, bf)
	jumps := NewJumps()
	t.Cleanup(func() { jumps.Close() })
	h1, h2 := behind(t, bf, b, jumps), behind(t, bf, b, jumps)
	h1.cfg.Host, h2.cfg.Host = "t58", "t68"
	c1, c2 := dialT(t, h1.cfg), dialT(t, h2.cfg)
	for _, c := range []*Client{c1, c2} {
		res, err := c.Run(ctxT(t), "echo $((6*7))")
		if err != nil || res.Stdout != "42\n" {
			t.Fatalf("%s through the bastion: %+v %v", c.Host(), res, err)
		}
	}
	if n := len(bf.srv.Users()); n != 1 {
		t.Errorf("the bastion saw %d logins, want 1 shared by both hosts", n)
	}
	if n := dialled(jumps); n != 1 {
		t.Errorf("%d bastion connections, want 1", n)
	}
	fw := bf.srv.Forwards()
	for _, h := range []*fixture{h1, h2} {
		if !slices.Contains(fw, h.srv.Addr()) {
			t.Errorf("the bastion forwarded to %v, not to %s: the host was reached some other way", fw, h.srv.Addr())
		}
	}
	if cmds := bf.srv.Commands(); len(cmds) != 0 {
		t.Errorf("the bastion ran %q: a bastion only forwards", cmds)
	}
}

func TestBastionMultiHopLikeProxyJumpAB(t *testing.T) {
	af := newFixture(t)
	a := bastionFor(t, af)
	jumps := NewJumps()
	t.Cleanup(func() { jumps.Close() })
	bf := behind(t, af, a, jumps)
	b := bastionFor(t, bf)
	b.Jumps = nil
	target := behind(t, bf, b, jumps)
	c := dialT(t, target.cfg)
	if res, err := c.Run(ctxT(t), "true"); err != nil || !res.OK() {
		t.Fatalf("run through two bastions: %+v %v", res, err)
	}
	if fw := af.srv.Forwards(); !slices.Equal(fw, []string{bf.srv.Addr()}) {
		t.Errorf("first hop forwarded to %v, want only the second hop %s", fw, bf.srv.Addr())
	}
	if fw := bf.srv.Forwards(); !slices.Equal(fw, []string{target.srv.Addr()}) {
		t.Errorf("second hop forwarded to %v, want only the target %s", fw, target.srv.Addr())
	}
	if n := dialled(jumps); n != 2 {
		t.Errorf("%d bastion connections, want 2 (one per hop)", n)
	}
}

func TestBastionHostKeyIsCheckedAndNamed(t *testing.T) {
	bf := newFixture(t)
	b := bastionFor(t, bf)
	b.KnownHostsFile = t.TempDir() + "/known_hosts" // the bastion is not known
	h := behind(t, bf, b, nil)
	_, err := Dial(ctxT(t), h.cfg)
	wantErr(t, err, "t58: via bastion root@"+bf.srv.Addr()+": host key for "+"["+bf.srv.Host()+"]", "is unknown", "--accept-new-host-keys")
	if fw := bf.srv.Forwards(); len(fw) != 0 {
		t.Fatalf("forwarded %v through an unverified bastion", fw)
	}

	b.AcceptNewHostKeys = true
	c := dialT(t, h.cfg)
	c.Close()
	if data, _ := os.ReadFile(b.KnownHostsFile); !strings.Contains(string(data), bf.srv.Host()) {
		t.Fatalf("accept-new did not record the bastion's key: %q", data)
	}

	// The same bastion address with another key: refused even with accept-new.
	bf.srv.SetHostKey(sshtest.NewSigner(t))
	_, err = Dial(ctxT(t), h.cfg)
	wantErr(t, err, "via bastion root@"+bf.srv.Addr(), "has CHANGED")
}

func TestBastionTunnelRefusalsNameTheBastion(t *testing.T) {
	bf := newFixture(t)
	b := bastionFor(t, bf)
	h := behind(t, bf, b, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	h.cfg.Port = closed
	_, err = Dial(ctxT(t), h.cfg)
	wantErr(t, err, "t58: connect 127.0.0.1:", "via bastion root@"+bf.srv.Addr()+": connection refused")

	nf := newFixture(t, sshtest.WithoutTCPForwarding())
	h2 := behind(t, nf, bastionFor(t, nf), nil)
	_, err = Dial(ctxT(t), h2.cfg)
	wantErr(t, err, "via bastion root@"+nf.srv.Addr(), "refuses TCP forwarding", "AllowTcpForwarding")
}

func TestBastionDroppedIsRedialled(t *testing.T) {
	bf := newFixture(t)
	b := bastionFor(t, bf)
	jumps := NewJumps()
	t.Cleanup(func() { jumps.Close() })
	h := behind(t, bf, b, jumps)
	c := dialT(t, h.cfg)
	bf.srv.DropConnections()
	waitFor(t, "the host's connection to notice", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.conn.isDead()
	})
	res, err := c.Run(ctxT(t), "echo again")
	if err != nil || res.Stdout != "again\n" {
		t.Fatalf("after the bastion dropped: %+v %v", res, err)
	}
	if n := len(bf.srv.Users()); n != 2 {
		t.Errorf("%d bastion logins, want 2 (the first and one redial)", n)
	}
}

func TestBastionChainLoopIsRefusedBeforeConnecting(t *testing.T) {
	bf := newFixture(t)
	b := bastionFor(t, bf)
	b.Bastion = b // a's bastion is a
	h := behind(t, bf, b, nil)
	_, err := Dial(ctxT(t), h.cfg)
	wantErr(t, err, "t58: more than 8 bastions in a row")
	if n := len(bf.srv.Users()); n != 0 {
		t.Fatalf("%d logins to a looping bastion, want none", n)
	}
}

func TestBastionRefusalIsSharedThenRetried(t *testing.T) {
	bf := newFixture(t)
	b := bastionFor(t, bf)
	b.KnownHostsFile = t.TempDir() + "/known_hosts" // unknown: refused
	jumps := NewJumps()
	t.Cleanup(func() { jumps.Close() })
	h := behind(t, bf, b, jumps)
	if _, err := Dial(ctxT(t), h.cfg); err == nil {
		t.Fatal("an unknown bastion was accepted")
	}
	if n := dialled(jumps); n != 0 {
		t.Fatalf("a refused bastion is kept as %d connection(s)", n)
	}
	os.WriteFile(b.KnownHostsFile, []byte(bf.srv.KnownHostsLine()+"\n"), 0o600)
	c := dialT(t, h.cfg)
	if res, err := c.Run(ctxT(t), "true"); err != nil || !res.OK() {
		t.Fatalf("after the bastion became known: %+v %v", res, err)
	}
}

package transport

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunExitCodesAndStreams(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	res, err := c.Run(ctxT(t), "echo out; echo err >&2; exit 42")
	if err != nil {
		t.Fatalf("a non-zero exit is not a transport error: %v", err)
	}
	if res.ExitCode != 42 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Fatalf("Result = %+v", res)
	}
	res, err = c.Run(ctxT(t), "kill -KILL $$")
	if err != nil || res.ExitCode != 128+9 {
		t.Fatalf("killed command: %+v, %v; want exit 137", res, err)
	}
}

func TestOneConnectionForEverything(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	dir := t.TempDir()
	for i := range 3 {
		if _, err := c.Run(ctxT(t), "true"); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteFile(ctxT(t), dir+"/f"+strconv.Itoa(i), []byte("x"), fileMeta(0o644)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadFile(ctxT(t), dir+"/f0"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.srv.Users()); n != 1 {
		t.Fatalf("%d logins, want 1 connection reused", n)
	}
}

func TestRunContextCancelStopsCommand(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "sleep 20")
	wantErr(t, err, "t58: run: context deadline exceeded")
	if time.Since(start) > 10*time.Second {
		t.Fatalf("Run ignored its context for %v", time.Since(start))
	}
	if _, err := c.Run(ctxT(t), "true"); err != nil {
		t.Fatalf("connection unusable after a canceled command: %v", err)
	}
}

func TestDroppedWhileIdleRedials(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	dir := t.TempDir()

	f.srv.DropConnections()
	res, err := c.Run(ctxT(t), "echo again")
	if err != nil || res.Stdout != "again\n" {
		t.Fatalf("Run after drop = %+v, %v", res, err)
	}

	f.srv.DropConnections()
	if err := c.WriteFile(ctxT(t), dir+"/w", []byte("w"), fileMeta(0o600)); err != nil {
		t.Fatalf("WriteFile after drop: %v", err)
	}

	f.srv.DropConnections()
	data, ok, err := c.ReadFile(ctxT(t), dir+"/w")
	if err != nil || !ok || string(data) != "w" {
		t.Fatalf("ReadFile after drop = %q, %v, %v", data, ok, err)
	}
	f.srv.DropConnections()
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, []byte("u"), 0o600)
	if changed, err := c.Upload(ctxT(t), src, dir+"/u", fileMeta(0o644)); err != nil || !changed {
		t.Fatalf("Upload after drop = %v, %v", changed, err)
	}
	if n := len(f.srv.Users()); n != 5 {
		t.Fatalf("%d logins, want 5 (1 + 4 redials)", n)
	}
}

func TestDroppedMidCommandIsNotRetried(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctxT(t), "sleep 30")
		done <- err
	}()
	waitFor(t, "the command to start", func() bool { return len(f.srv.Commands()) == 1 })
	f.srv.DropConnections()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not notice the dropped connection")
	}
	wantErr(t, err, "t58: connection lost while a command was running", "not retried")
	if n := len(f.srv.Commands()); n != 1 {
		t.Fatalf("command sent %d times, want 1", n)
	}

	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("still here"), 0o644)
	if data, ok, err := c.ReadFile(ctxT(t), p); err != nil || !ok || string(data) != "still here" {
		t.Fatalf("ReadFile after the lost command = %q, %v, %v", data, ok, err)
	}
	if res, err := c.Run(ctxT(t), "echo ok"); err != nil || res.Stdout != "ok\n" {
		t.Fatalf("Run after the lost command = %+v, %v", res, err)
	}
}

func TestDialRefusedFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	f := newFixture(t)
	f.cfg.Port = port
	start := time.Now()
	_, err = Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: connect 127.0.0.1:"+strconv.Itoa(port)+": connection refused")
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("refused dial took %v", el)
	}
}

func TestConnectTimeoutOnSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, never speaks
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	f := newFixture(t)
	f.cfg.Port = ln.Addr().(*net.TCPAddr).Port
	f.cfg.ConnectTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err = Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: connect 127.0.0.1:", "timed out after 300ms")
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Dial took %v with a 300ms connect timeout", el)
	}
}

func TestKeepaliveSent(t *testing.T) {
	f := newFixture(t)
	f.cfg.KeepaliveInterval = 20 * time.Millisecond
	dialT(t, f.cfg)
	waitFor(t, "keepalives", func() bool { return f.srv.Keepalives() >= 3 })
}

func TestCloseStopsUse(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	c.Close()
	_, err := c.Run(ctxT(t), "true")
	wantErr(t, err, "t58: connection already closed")
	waitFor(t, "the server to see the close", func() bool { return f.srv.ConnCount() == 0 })
	if n := len(f.srv.Users()); n != 1 {
		t.Fatalf("Run after Close redialled (%d logins)", n)
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Host: "web1"}.withDefaults()
	if c.Address != "web1" || c.Port != 22 || c.User != "root" || c.ConnectTimeout != DefaultConnectTimeout ||
		c.KeepaliveInterval != DefaultKeepaliveInterval || !strings.HasSuffix(c.KnownHostsFile, "/.ssh/known_hosts") {
		t.Fatalf("defaults = %+v", c)
	}
	if got := (Config{Address: "::1", Port: 2222}).addr(); got != "[::1]:2222" {
		t.Fatalf("addr = %q", got)
	}
}

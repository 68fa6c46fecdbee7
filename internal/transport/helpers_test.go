package transport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// fixture is a server trusting one client key, and a Config that reaches it.
type fixture struct {
	srv *sshtest.Server
	key sshtest.ClientKey
	cfg Config
}

func newFixture(t testing.TB, opts ...sshtest.Option) *fixture {
	t.Helper()
	return newFixtureKey(t, sshtest.NewClientKey(t, ""), opts...)
}

// newFixtureKey is a fixture trusting key, for servers that must all let
// one client in (a bastion and the hosts behind it).
func newFixtureKey(t testing.TB, key sshtest.ClientKey, opts ...sshtest.Option) *fixture {
	t.Helper()
	srv := sshtest.Start(t, append([]sshtest.Option{sshtest.WithAuthorizedKey(key.Public)}, opts...)...)
	return &fixture{srv: srv, key: key, cfg: Config{
		Host:              "t58",
		Address:           "127.0.0.1",
		Port:              srv.Port(),
		User:              "root",
		KeyFiles:          []string{key.Path},
		KnownHostsFile:    srv.WriteKnownHosts(t),
		ConnectTimeout:    5 * time.Second,
		KeepaliveInterval: -1,
		Progress:          nil,
	}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dialT(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := Dial(ctxT(t), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want an error containing %q", parts)
	}
	msg := err.Error()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q spans several lines", msg)
	}
}

// fakeSudo puts a `sudo` script first on PATH (the server's commands inherit
// the test's environment). body sees the arguments after -n in "$@".
func fakeSudo(t *testing.T, body string) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = -n ] || { echo 'fake sudo: -n missing' >&2; exit 99; }\nshift\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

package playbooks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/engine/enginetest"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/remote"
)

func TestParseUpstreams(t *testing.T) {
	up := func(addr string, port int, flags ...string) UpstreamServer {
		s := UpstreamServer{Address: addr, Port: port}
		for _, f := range flags {
			s.Down = s.Down || f == "down"
			s.Backup = s.Backup || f == "backup"
		}
		return s
	}
	const t58, t68 = "192.168.250.58", "192.168.250.68"
	render := func(balance string) string {
		inv := loadInventory(t)
		inv.Nginx.Balance = balance
		tg := target(t, inv, "proxy", engine.FamilyDebian)
		tg.Drained = map[string]bool{"t58": true}
		b, err := tg.NginxConf()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		conf string
		want map[string][]UpstreamServer
		err  string
	}{
		{name: "sticky, t58 drained", conf: render(inventory.BalanceSticky), want: map[string][]UpstreamServer{
			"tomcat-servers": {up(t58, 8080, "down"), up(t68, 8080)},
			"tomcat_t58":     {up(t58, 8080, "down"), up(t68, 8080, "backup")},
			"tomcat_t68":     {up(t68, 8080), up(t58, 8080, "backup", "down")},
		}},
		{name: "ip_hash, t58 drained", conf: render(inventory.BalanceIPHash), want: map[string][]UpstreamServer{
			"tomcat-servers": {up(t58, 8080, "down"), up(t68, 8080)},
		}},
		{name: "no file content", conf: "", want: map[string][]UpstreamServer{}},
		{name: "nginx syntax beyond the template", conf: `
			# upstream commented { server 10.0.0.9:1; }
			stream { upstream "db" { zone db 64k; server [::1]:5432 weight=2 max_fails=3; server 10.0.0.2 backup; } }
			http { upstream u{server unix:/run/app.sock;server a.example:8080 down;} map $x $y { default "u;#{"; } }`,
			want: map[string][]UpstreamServer{
				"db": {up("::1", 5432), up("10.0.0.2", 80, "backup")},
				"u":  {up("unix:/run/app.sock", 0), up("a.example", 8080, "down")},
			}},
		{name: "empty upstream", conf: "upstream x { ip_hash; }", want: map[string][]UpstreamServer{"x": {}}},
		{name: "missing ;", conf: "http { upstream x { server 10.0.0.1:80 } }", err: "has no ;"},
		{name: "unclosed upstream", conf: "http { upstream x { server 10.0.0.1:80;", err: "no closing }"},
		{name: "unclosed block", conf: "http { upstream x { server 10.0.0.1:80; }", err: "unexpected end"},
		{name: "stray }", conf: "upstream x { server 10.0.0.1:80; } }", err: "unexpected }"},
		{name: "bad port", conf: "upstream x { server 10.0.0.1:http; }", err: "bad port"},
		{name: "port out of range", conf: "upstream x { server 10.0.0.1:70000; }", err: "bad port"},
		{name: "server without address", conf: "upstream x { server; }", err: "without an address"},
		{name: "upstream without name", conf: "upstream { server 10.0.0.1:80; }", err: "one name"},
		{name: "block in upstream", conf: "upstream x { server 10.0.0.1:80 { } }", err: "unexpected {"},
		{name: "duplicate upstream", conf: "upstream x { } upstream x { }", err: "defined twice"},
		{name: "unterminated quote", conf: `upstream x { server "10.0.0.1:80; }`, err: "unterminated quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseUpstreams([]byte(tc.conf))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want an error with %q, got %v (%v)", tc.err, err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// rootedConn runs a proxy's commands and files on this machine with the
// absolute paths a drain touches (nginx.conf, the markers, nginx's pid
// file) moved under root.
type rootedConn struct {
	*enginetest.LocalConn
	re *strings.Replacer
}

func newRootedConn(name, root string, env []string) *rootedConn {
	var pairs []string
	for _, p := range []string{"/etc/nginx", engine.DefaultStateDir, nginxPIDFile} {
		pairs = append(pairs, p, root+p)
	}
	return &rootedConn{LocalConn: &enginetest.LocalConn{Name: name, Env: env}, re: strings.NewReplacer(pairs...)}
}

func (c *rootedConn) Run(ctx context.Context, cmd string) (remote.Result, error) {
	return c.LocalConn.Run(ctx, c.re.Replace(cmd))
}
func (c *rootedConn) ReadFile(ctx context.Context, p string) ([]byte, bool, error) {
	return c.LocalConn.ReadFile(ctx, c.re.Replace(p))
}
func (c *rootedConn) WriteFile(ctx context.Context, p string, data []byte, meta remote.FileMeta) error {
	return c.LocalConn.WriteFile(ctx, c.re.Replace(p), data, meta)
}
func (c *rootedConn) Upload(ctx context.Context, local, p string, meta remote.FileMeta) (bool, error) {
	return c.LocalConn.Upload(ctx, local, c.re.Replace(p), meta)
}

// fakeProxy is a proxy host whose nginx is stubs: `systemctl reload nginx`
// is logged and, once $STATE/finish exists, ends the "worker" (a process
// of this test, standing for one that still holds a request) a moment
// later; pgrep names that worker as the master's child; `nginx -t` passes.
type fakeProxy struct {
	t            *testing.T
	root, state  string
	c            *Cluster
	h            *engine.Host
	opts         engine.Options
	workerExited chan struct{}
}

func newFakeProxy(t *testing.T) *fakeProxy {
	t.Helper()
	bin, state, root := t.TempDir(), t.TempDir(), t.TempDir()
	stubs := map[string]string{
		"systemctl": `echo "systemctl $*" >> "$STATE/log"
[ "$1 $2" = "reload nginx" ] && [ -e "$STATE/finish" ] && { (sleep 0.3; kill $(cat "$STATE/worker")) >/dev/null 2>&1 & }
exit 0`,
		"pgrep": `cat "$STATE/worker"`,
		"nginx": `echo "nginx $*" >> "$STATE/log"`,
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"etc/nginx", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, nginxPIDFile), []byte("1\n"), 0o644)
	worker := exec.Command("sleep", "60")
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { worker.Wait(); close(exited) }() // reaped, so kill -0 sees it gone
	t.Cleanup(func() { worker.Process.Kill(); <-exited })
	os.WriteFile(filepath.Join(state, "worker"), []byte(strconv.Itoa(worker.Process.Pid)+"\n"), 0o644)

	c, err := NewCluster(loadInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	conn := newRootedConn("proxy", root, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "STATE=" + state})
	h := engine.NewHost(conn, nil)
	h.Facts = engine.ParseOSRelease([]byte(debian12))
	// The proxy as the nginx play left it: nothing drained.
	f, err := c.nginxFile(h, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, f.Path), f.Content, 0o644)
	return &fakeProxy{t: t, root: root, state: state, c: c, h: h, workerExited: exited,
		opts: engine.Options{StateDir: filepath.Join(t.TempDir(), "state")}}
}

func (p *fakeProxy) step(s engine.Step) (engine.Status, string, error) {
	var summary string
	st, err := engine.RunStep(context.Background(), p.h, "rollout", s, p.opts, engine.SinkFunc(func(e engine.Event) { summary = e.Summary }))
	return st, summary, err
}

func (p *fakeProxy) reloads() int {
	b, _ := os.ReadFile(filepath.Join(p.state, "log"))
	return strings.Count(string(b), "systemctl reload nginx\n")
}

// A drain that ran out of time is retried with a longer wait: the marker
// and nginx.conf are in place by then, and the retry must still reload and
// wait for the workers that hold requests, not report "ok". An undrain that
// finds everything in place does nothing.
func TestDrainRetriedAfterRequestsInFlight(t *testing.T) {
	p := newFakeProxy(t)
	_, _, err := p.step(p.c.DrainStep("t58", true, 300*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "requests still in flight") {
		t.Fatalf("first drain: want requests still in flight, got %v", err)
	}
	if n := p.reloads(); n != 1 {
		t.Fatalf("first drain reloaded %d times", n)
	}
	ups, err := p.c.ProxyUpstreams(context.Background(), p.h)
	if err != nil || len(ups["tomcat-servers"]) != 2 || !ups["tomcat-servers"][0].Down || ups["tomcat-servers"][1].Down {
		t.Fatalf("after the first drain, tomcat-servers is %+v (%v); want t58 down, t68 up", ups["tomcat-servers"], err)
	}

	os.WriteFile(filepath.Join(p.state, "finish"), nil, 0o644) // the long request ends after the next reload
	st, summary, err := p.step(p.c.DrainStep("t58", true, 10*time.Second))
	if err != nil || st != engine.StatusChanged {
		t.Fatalf("retried drain: %s %v", st, err)
	}
	if n := p.reloads(); n != 2 {
		t.Fatalf("the retried drain did not reload (%d reloads in all)", n)
	}
	select {
	case <-p.workerExited:
	default:
		t.Fatal("the retried drain returned before the old worker exited")
	}
	if !strings.Contains(summary, "already marked down") {
		t.Errorf("retried drain's summary: %q", summary)
	}

	if st, _, err := p.step(p.c.DrainStep("t58", false, 0)); err != nil || st != engine.StatusChanged {
		t.Fatalf("undrain: %s %v", st, err)
	}
	if st, _, err := p.step(p.c.DrainStep("t58", false, 0)); err != nil || st != engine.StatusOK {
		t.Fatalf("second undrain: %s %v, want ok", st, err)
	}
	if n := p.reloads(); n != 3 {
		t.Errorf("%d reloads after drain, retry and two undrains, want 3", n)
	}
	if ups, err := p.c.ProxyUpstreams(context.Background(), p.h); err != nil || ups["tomcat_t58"][0].Down {
		t.Errorf("after the undrain, tomcat_t58 is %+v (%v)", ups["tomcat_t58"], err)
	}
}

// A proxy without nginx.conf (not converged yet) has no upstreams.
func TestProxyUpstreamsWithoutNginxConf(t *testing.T) {
	p := newFakeProxy(t)
	os.Remove(filepath.Join(p.root, nginxConfPath))
	ups, err := p.c.ProxyUpstreams(context.Background(), p.h)
	if err != nil || ups == nil || len(ups) != 0 {
		t.Fatalf("got %v, %v; want an empty map", ups, err)
	}
}

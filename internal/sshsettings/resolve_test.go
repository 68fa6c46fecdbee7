package sshsettings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// world is a temp HOME with an ssh_config and an inventory whose ssh
// section is sshSection (hosts proxy, t58, t68 on 10.0.0.x).
type world struct {
	t    *testing.T
	home string
	inv  *inventory.Inventory
}

const hostsYAML = `cluster: {name: lab, domain: lab.test}
hosts:
  - {name: proxy, address: 10.0.0.8, roles: [proxy]}
  - {name: t58, address: 10.0.0.58, roles: [tomcat, memcached]%s}
  - {name: t68, address: 10.0.0.68, roles: [tomcat, memcached]}
java: {install: tarball, tarball: jdk.tar.gz}
tomcat: {version: 9.0.70}
`

func newWorld(t *testing.T, sshConfig, sshSection, t58Extra string) *world {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if sshConfig != "" {
		if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(sshConfig), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text := strings.Replace(hostsYAML, "%s", t58Extra, 1) + sshSection
	path := filepath.Join(home, "inventory.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	return &world{t: t, home: home, inv: inv}
}

func (w *world) resolve(name string, opts Options) (Host, *Resolver) {
	w.t.Helper()
	r, err := Load(w.inv, opts)
	if err != nil {
		w.t.Fatalf("Load: %v", err)
	}
	h, ok := w.inv.Host(name)
	if !ok {
		w.t.Fatalf("no host %s", name)
	}
	got, err := r.For(h)
	if err != nil {
		w.t.Fatalf("For(%s): %v", name, err)
	}
	return got, r
}

func source(h Host, name string) string {
	for _, s := range h.Settings {
		if s.Name == name {
			return s.Source
		}
	}
	return "(no setting " + name + ")"
}

const t58Block = `Host t58
  HostName 192.0.2.58
  User deploy
  Port 2222
  IdentityFile ~/.ssh/t58_key
  IdentityFile %d/.ssh/second_%r
  UserKnownHostsFile ~/.ssh/kh_%h
  ConnectTimeout 7
  HashKnownHosts yes
`

func TestSSHConfigSuppliesWhatTheInventoryLeavesUnset(t *testing.T) {
	w := newWorld(t, t58Block, "", "")
	h, _ := w.resolve("t58", Options{})
	c := h.Config
	want := transport.Config{Host: "t58", Address: "192.0.2.58", Port: 2222, User: "deploy",
		KeyFiles:       []string{w.home + "/.ssh/t58_key", w.home + "/.ssh/second_deploy"},
		KnownHostsFile: w.home + "/.ssh/kh_192.0.2.58", HashKnownHosts: true, ConnectTimeout: 7 * time.Second, UseAgent: true}
	if c.Address != want.Address || c.Port != want.Port || c.User != want.User || strings.Join(c.KeyFiles, ",") != strings.Join(want.KeyFiles, ",") ||
		c.KnownHostsFile != want.KnownHostsFile || c.HashKnownHosts != want.HashKnownHosts || c.ConnectTimeout != want.ConnectTimeout || c.UseAgent != want.UseAgent {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	for name, line := range map[string]string{"address": ":2", "user": ":3", "port": ":4", "key files": ":5", "known_hosts": ":7", "connect timeout": ":8"} {
		if src := source(h, name); src != "~/.ssh/config"+line {
			t.Errorf("%s comes from %q, want ~/.ssh/config%s", name, src, line)
		}
	}
	// t68 has no block: the inventory's defaults.
	o, _ := w.resolve("t68", Options{})
	if o.Config.Address != "10.0.0.68" || o.Config.Port != 22 || o.Config.User != "root" || source(o, "user") != "default" {
		t.Fatalf("t68 = %+v %v", o.Config, o.Settings)
	}
}

func TestInventoryWinsWhereBothSetAValue(t *testing.T) {
	w := newWorld(t, t58Block, `ssh:
  user: admin
  port: 22
  key_files: [/keys/id]
  known_hosts: /keys/known_hosts
  connect_timeout: 3s
`, ", ssh: {address: 10.9.9.58, port: 2022}")
	h, _ := w.resolve("t58", Options{ConnectTimeout: 4 * time.Second})
	c := h.Config
	if c.Address != "10.9.9.58" || c.Port != 2022 || c.User != "admin" || strings.Join(c.KeyFiles, ",") != "/keys/id" ||
		c.KnownHostsFile != "/keys/known_hosts" || c.ConnectTimeout != 4*time.Second {
		t.Fatalf("the inventory (and --connect-timeout) should win: %+v", c)
	}
	for _, n := range []string{"address", "port", "user", "key files", "known_hosts"} {
		if src := source(h, n); src != "inventory" {
			t.Errorf("%s from %q, want inventory", n, src)
		}
	}
	if src := source(h, "connect timeout"); src != "--connect-timeout" {
		t.Errorf("timeout from %q", src)
	}
}

func TestSSHConfigNoneReadsNothing(t *testing.T) {
	w := newWorld(t, t58Block, "ssh: {config: none}\n", "")
	h, _ := w.resolve("t58", Options{})
	if h.Config.User != "root" || h.Config.Address != "10.0.0.58" {
		t.Fatalf("ssh.config: none still read the file: %+v", h.Config)
	}
}

func TestBlocksMatchNameOrAddressAndNegationExcludes(t *testing.T) {
	w := newWorld(t, `Host 10.0.0.* !10.0.0.8
  User byaddress
Host * !t68
  Port 2200
`, "", "")
	t58, _ := w.resolve("t58", Options{})
	proxy, _ := w.resolve("proxy", Options{})
	t68, _ := w.resolve("t68", Options{})
	if t58.Config.User != "byaddress" || t58.Config.Port != 2200 {
		t.Errorf("t58 = %s:%d, want byaddress:2200", t58.Config.User, t58.Config.Port)
	}
	if proxy.Config.User != "root" {
		t.Errorf("proxy's address is negated, user = %s", proxy.Config.User)
	}
	if t68.Config.User != "byaddress" || t68.Config.Port != 22 {
		t.Errorf("t68 is negated by name in the second block: %s:%d", t68.Config.User, t68.Config.Port)
	}
}

func TestProxyJumpChainAndBastionLookup(t *testing.T) {
	w := newWorld(t, `Host t58
  ProxyJump jump1,ops@jump2:2202
Host jump1
  HostName 198.51.100.1
  User j1
  IdentityFile ~/.ssh/j1
Host jump2
  HostName 198.51.100.2
`, "ssh: {key_files: [/keys/id]}\n", "")
	h, _ := w.resolve("t58", Options{AcceptNewHostKeys: true})
	b := h.Config.Bastion
	if b == nil || b.Address != "198.51.100.2" || b.Port != 2202 || b.User != "ops" || strings.Join(b.KeyFiles, ",") != "/keys/id" || !b.AcceptNewHostKeys {
		t.Fatalf("nearest hop = %+v, want ops@198.51.100.2:2202 with the inventory's key", b)
	}
	a := b.Bastion
	if a == nil || a.Address != "198.51.100.1" || a.Port != 22 || a.User != "j1" || strings.Join(a.KeyFiles, ",") != w.home+"/.ssh/j1" || a.Bastion != nil {
		t.Fatalf("first hop = %+v, want j1@198.51.100.1:22 with ~/.ssh/j1", a)
	}
	var hops []string
	for _, s := range h.Settings {
		if s.Name == "bastion" {
			hops = append(hops, s.Value+" from "+s.Source)
		}
	}
	if len(hops) != 2 || !strings.HasPrefix(hops[0], "ops@198.51.100.2:2202") || !strings.HasPrefix(hops[1], "j1@198.51.100.1:22") || !strings.Contains(hops[0], "~/.ssh/config:2 (ProxyJump)") {
		t.Fatalf("dry-run lines: %q", hops)
	}
}

func TestInventoryBastionChainAndTheBastionItselfIsDirect(t *testing.T) {
	w := newWorld(t, "Host 10.0.0.8\n  User jumpuser\n", `ssh:
  known_hosts: /keys/kh
  bastion:
    address: 10.0.0.8
    bastion: {address: outer.example.com, port: 2200, user: o, key_files: [/keys/outer]}
`, ", ssh: {bastion: {address: 10.0.0.68, user: other}}")
	t68, _ := w.resolve("t68", Options{})
	b := t68.Config.Bastion
	if b == nil || b.Address != "10.0.0.8" || b.User != "jumpuser" || b.KnownHostsFile != "/keys/kh" {
		t.Fatalf("t68's bastion = %+v: want the proxy, user from its Host block, the inventory's known_hosts", b)
	}
	if o := b.Bastion; o == nil || o.Address != "outer.example.com" || o.Port != 2200 || o.User != "o" || o.KeyFiles[0] != "/keys/outer" {
		t.Fatalf("the hop before = %+v", o)
	}
	// The proxy is the bastion: reached by the hop before it, not through itself.
	proxy, _ := w.resolve("proxy", Options{})
	if p := proxy.Config.Bastion; p == nil || p.Address != "outer.example.com" || p.Bastion != nil {
		t.Fatalf("proxy's chain = %+v, want outer.example.com only", p)
	}
	// hosts[].ssh.bastion replaces ssh.bastion.
	t58, _ := w.resolve("t58", Options{})
	if p := t58.Config.Bastion; p == nil || p.Address != "10.0.0.68" || p.User != "other" || p.Bastion != nil {
		t.Fatalf("t58's own bastion = %+v", p)
	}
	if src := source(t58, "bastion"); src != "inventory hosts[].ssh.bastion" {
		t.Errorf("source %q", src)
	}
}

func TestProxyJumpLoopIsAnError(t *testing.T) {
	w := newWorld(t, "Host t58\n  ProxyJump a\nHost a\n  ProxyJump b\nHost b\n  ProxyJump a\n", "", "")
	r, err := Load(w.inv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := w.inv.Host("t58")
	_, err = r.For(h)
	if err == nil || !strings.Contains(err.Error(), "more than 8 bastions in a row") || !strings.Contains(err.Error(), "~/.ssh/config:") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnsupportedDirectivesAreNamed(t *testing.T) {
	w := newWorld(t, `Host t58
  ProxyCommand ssh -W %h:%p jump
  StrictHostKeyChecking no
Host t68
  StrictHostKeyChecking yes
Match exec "test -f /tmp/x"
  User fromexec
Match host t68 user bob
  Port 1
`, "", "")
	h, r := w.resolve("t58", Options{})
	if h.Config.User != "root" {
		t.Errorf("a Match exec block was applied: user %s", h.Config.User)
	}
	if t68, _ := w.resolve("t68", Options{}); t68.Config.Port != 22 {
		t.Errorf("a Match with a criterion we do not evaluate was applied: port %d", t68.Config.Port)
	}
	got := strings.Join(r.Warnings(), "\n")
	for _, want := range []string{
		"~/.ssh/config:6: `Match exec \"test -f /tmp/x\"` is not evaluated",
		"~/.ssh/config:8: `Match host t68 user bob` is not evaluated",
		"~/.ssh/config:2: ProxyCommand for t58 is not supported",
		"~/.ssh/config:3: StrictHostKeyChecking for t58",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "for t68") {
		t.Errorf("StrictHostKeyChecking yes is what clusterctl does; no warning wanted:\n%s", got)
	}
}

func TestBadSSHConfigValuesNameTheLine(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{"Host t58\n  Port twentytwo\n", `~/.ssh/config:2: Port "twentytwo" is not a port number`},
		{"Host t58\n  ConnectTimeout soon\n", `~/.ssh/config:2: ConnectTimeout "soon"`},
		{"Host t58\n  IdentityFile ~/.ssh/%C\n", `~/.ssh/config:2: "~/.ssh/%C" uses %C`},
		{"Host t58\n  ProxyJump user@\n", `~/.ssh/config:2: ProxyJump entry "user@" is not`},
	} {
		w := newWorld(t, tc.config, "", "")
		r, err := Load(w.inv, Options{})
		if err != nil {
			t.Fatal(err)
		}
		h, _ := w.inv.Host("t58")
		if _, err := r.For(h); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.config, err, tc.want)
		}
	}
}

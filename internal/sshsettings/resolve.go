// Package sshsettings derives, once for every command, how each host is
// reached: the inventory's values where it writes them, then the Host
// blocks of the ssh_config file (ssh.config, ~/.ssh/config by default),
// then the defaults; and the chain of bastions in front of it
// (hosts[].ssh.bastion, ssh.bastion, then ProxyJump). The result is a
// transport.Config per host and, for the dry run, each setting with where
// it came from. Nothing here contacts a host.
package sshsettings

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// Options are the command line's part of every connection.
type Options struct {
	AcceptNewHostKeys bool
	ConnectTimeout    time.Duration // --connect-timeout; 0 when not given
	Prompt            transport.PromptFunc
}

// Resolver holds the inventory and the parsed ssh_config.
type Resolver struct {
	inv  *inventory.Inventory
	sc   *sshConfig // nil: none read
	opts Options
	home string
	// timeoutWritten: the inventory writes ssh.connect_timeout, which
	// then bounds every hop as well as every host.
	timeoutWritten bool
}

// Setting is one effective value and where it came from: "inventory",
// "~/.ssh/config:12", "default", "--connect-timeout".
type Setting struct {
	Name, Value, Source string
}

// Host is one host's effective settings.
type Host struct {
	Name     string
	Config   transport.Config
	Settings []Setting
}

// Destination is "user@address:port".
func (h Host) Destination() string { return describeDest(&h.Config) }

func describeDest(c *transport.Config) string {
	return c.User + "@" + net.JoinHostPort(c.Address, strconv.Itoa(c.Port))
}

// Load reads the inventory's ssh_config file (a missing one is none). A
// file that cannot be parsed is an error naming its line: a half-read
// configuration could connect somewhere the operator's ssh would not.
func Load(inv *inventory.Inventory, opts Options) (*Resolver, error) {
	r := &Resolver{inv: inv, opts: opts, timeoutWritten: inv.SSHWritten(inventory.Host{}, "connect_timeout")}
	r.home, _ = os.UserHomeDir()
	if inv.SSH.Config != inventory.SSHConfigNone {
		sc, err := readSSHConfig(inv.SSH.Config)
		if err != nil {
			return nil, err
		}
		r.sc = sc
	}
	return r, nil
}

// Warnings are what of the ssh_config the hosts of inv would need and
// clusterctl does not honour; commands print them before they connect.
func (r *Resolver) Warnings() []string {
	if r.sc == nil {
		return nil
	}
	out := append([]string(nil), r.sc.notes...)
	seen := map[string]bool{}
	for _, h := range r.inv.Hosts {
		for _, w := range r.sc.warnings(h.Name, []string{h.Name, h.Address}) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

// pick is the first of the candidates that is set.
type pick struct {
	name string
	out  *[]Setting
}

// of is the first set candidate, recorded as the setting's value.
func (p pick) of(cands ...cand) cand {
	c := first(cands...)
	*p.out = append(*p.out, Setting{p.name, c.v, c.src})
	return c
}

func (p pick) str(cands ...cand) string { return p.of(cands...).v }

// first is the first candidate that is set; the last one always is.
func first(cands ...cand) cand {
	for _, c := range cands {
		if c.ok {
			return c
		}
	}
	return cand{}
}

// cand is one source's value for a setting.
type cand struct {
	v   string
	src string
	ok  bool
}

func inv(v string, ok bool) cand { return cand{v, "inventory", ok} }
func def(v string) cand          { return cand{v, "default", true} }
func cfgv(v value) cand          { return cand{v.v, v.src, v.src != ""} }

// For is h's connection: what apply, verify, teardown and the dry run
// use. An error names the host and the ssh_config line at fault.
func (r *Resolver) For(h inventory.Host) (Host, error) {
	out, err := r.resolve(h)
	if err != nil {
		return out, fmt.Errorf("%s: %w", h.Name, err)
	}
	return out, nil
}

func (r *Resolver) resolve(h inventory.Host) (Host, error) {
	out := Host{Name: h.Name}
	aliases := []string{h.Name, h.Address}
	p := func(name string) pick { return pick{name, &out.Settings} }
	get := func(key string) value { v, _ := r.sc.get(aliases, key); return v }
	written := func(key string) bool { return r.inv.SSHWritten(h, key) }

	var hs inventory.HostSSH
	if h.SSH != nil {
		hs = *h.SSH
	}
	cfg := transport.Config{
		Host:              h.Name,
		PasswordEnv:       r.inv.SSH.PasswordEnv,
		PassphraseEnv:     r.inv.SSH.PassphraseEnv,
		SudoPasswordEnv:   r.inv.SSH.SudoPasswordEnv,
		Prompt:            r.opts.Prompt,
		AcceptNewHostKeys: r.opts.AcceptNewHostKeys,
	}
	cfg.Address = p("address").str(inv(hs.Address, hs.Address != ""), cfgv(r.hostName(get("HostName"), h.Name)), cand{h.Address, "hosts[].address", true})
	var err error
	if cfg.Port, err = r.port(p("port").of(inv(strconv.Itoa(h.SSHPort()), written("port")), cfgv(get("Port")), def(strconv.Itoa(h.SSHPort())))); err != nil {
		return out, err
	}
	cfg.User = p("user").str(inv(h.SSHUser(), written("user")), cfgv(get("User")), def(h.SSHUser()))
	if cfg.KeyFiles, err = r.keyFiles(&out.Settings, written("key_files"), r.inv.SSH.KeyFiles, aliases, cfg.User, cfg.Address); err != nil {
		return out, err
	}
	cfg.UseAgent = r.agent(&out.Settings, written("agent"), aliases)
	if cfg.KnownHostsFile, err = r.knownHosts(&out.Settings, written("known_hosts"), r.inv.SSH.KnownHosts, aliases, cfg.User, cfg.Address); err != nil {
		return out, err
	}
	cfg.HashKnownHosts = strings.EqualFold(get("HashKnownHosts").v, "yes")
	if cfg.ConnectTimeout, err = r.timeout(&out.Settings, aliases); err != nil {
		return out, err
	}

	chain, err := r.hostChain(h, hs, aliases)
	if err != nil {
		return out, err
	}
	cfg.Bastion = skipSelf(chain.cfg, cfg.Address, cfg.Port)
	switch {
	case cfg.Bastion == nil && chain.cfg != nil:
		out.Settings = append(out.Settings, Setting{"bastion", "none: this host is the bastion", chain.src})
	case cfg.Bastion == nil:
		out.Settings = append(out.Settings, Setting{"bastion", "none (direct)", chain.src})
	}
	for b := cfg.Bastion; b != nil; b = b.Bastion {
		out.Settings = append(out.Settings, Setting{"bastion", describeHop(b), hopSource(chain, b)})
	}
	out.Config = cfg
	return out, nil
}

// hostName is HostName with ssh(1)'s %h (the name given) expanded.
func (r *Resolver) hostName(v value, alias string) value {
	v.v = strings.ReplaceAll(v.v, "%h", alias)
	return v
}

func (r *Resolver) port(c cand) (int, error) {
	n, err := strconv.Atoi(c.v)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s: Port %q is not a port number (1-65535)", c.src, c.v)
	}
	return n, nil
}

func (r *Resolver) keyFiles(out *[]Setting, written bool, fromInv []string, aliases []string, user, host string) ([]string, error) {
	if written {
		*out = append(*out, Setting{"key files", keyList(fromInv), "inventory"})
		return fromInv, nil
	}
	_, all := r.sc.get(aliases, "IdentityFile")
	if len(all) == 0 {
		*out = append(*out, Setting{"key files", "none (the agent only)", "default"})
		return nil, nil
	}
	var files []string
	for _, v := range all {
		f, err := r.expand(v, user, host)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	*out = append(*out, Setting{"key files", keyList(files), all[0].src})
	return files, nil
}

func keyList(files []string) string {
	if len(files) == 0 {
		return "none (the agent only)"
	}
	var s []string
	for _, f := range files {
		s = append(s, tildify(f))
	}
	return strings.Join(s, ", ")
}

// agent: the inventory's ssh.agent when written; IdentitiesOnly yes in
// ssh_config means ssh(1) offers the key files only, so we do too.
func (r *Resolver) agent(out *[]Setting, written bool, aliases []string) bool {
	on := r.inv.SSH.Agent
	src := "inventory"
	if !written {
		src = "default"
		if v, _ := r.sc.get(aliases, "IdentitiesOnly"); strings.EqualFold(v.v, "yes") {
			on, src = false, v.src+" (IdentitiesOnly)"
		}
	}
	*out = append(*out, Setting{"agent", map[bool]string{true: "yes", false: "no"}[on], src})
	return on
}

func (r *Resolver) knownHosts(out *[]Setting, written bool, fromInv string, aliases []string, user, host string) (string, error) {
	if v, _ := r.sc.get(aliases, "UserKnownHostsFile"); !written && v.src != "" {
		files := strings.Fields(v.v)
		if len(files) == 0 || strings.EqualFold(files[0], "none") {
			return "", fmt.Errorf("%s: UserKnownHostsFile %q: clusterctl needs a known_hosts file to check host keys against", v.src, v.v)
		}
		f, err := r.expand(value{files[0], v.src}, user, host)
		if err != nil {
			return "", err
		}
		src := v.src
		if len(files) > 1 {
			src += " (the first of its files only)"
		}
		*out = append(*out, Setting{"known_hosts", tildify(f), src})
		return f, nil
	}
	src := "default"
	if written {
		src = "inventory"
	}
	*out = append(*out, Setting{"known_hosts", tildify(fromInv), src})
	return fromInv, nil
}

func (r *Resolver) timeout(out *[]Setting, aliases []string) (time.Duration, error) {
	switch v, _ := r.sc.get(aliases, "ConnectTimeout"); {
	case r.opts.ConnectTimeout > 0:
		*out = append(*out, Setting{"connect timeout", r.opts.ConnectTimeout.String(), "--connect-timeout"})
		return r.opts.ConnectTimeout, nil
	case r.timeoutWritten:
		d := r.inv.SSH.ConnectTimeout.Std()
		*out = append(*out, Setting{"connect timeout", d.String(), "inventory"})
		return d, nil
	case v.src != "":
		n, err := strconv.Atoi(v.v)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%s: ConnectTimeout %q is not a number of seconds", v.src, v.v)
		}
		d := time.Duration(n) * time.Second
		*out = append(*out, Setting{"connect timeout", d.String(), v.src})
		return d, nil
	}
	d := r.inv.SSH.ConnectTimeout.Std()
	*out = append(*out, Setting{"connect timeout", d.String(), "default"})
	return d, nil
}

// expand is ssh_config(5)'s ~ and the %-tokens of a path: %d home, %u
// local user, %h remote host, %r remote user, %% a %. Any other token is
// an error: guessing would read the wrong key.
func (r *Resolver) expand(v value, remoteUser, host string) (string, error) {
	s := v.v
	if s == "~" || strings.HasPrefix(s, "~/") {
		s = r.home + s[1:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%s: %q ends in a lone %%", v.src, v.v)
		}
		i++
		switch s[i] {
		case 'd':
			b.WriteString(r.home)
		case 'u':
			b.WriteString(localUser())
		case 'h':
			b.WriteString(host)
		case 'r':
			b.WriteString(remoteUser)
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("%s: %q uses %%%c, which clusterctl does not expand (it knows %%d %%u %%h %%r %%%%)", v.src, v.v, s[i])
		}
	}
	p := b.String()
	if !filepath.IsAbs(p) {
		// As ssh(1): against the working directory. Made absolute so the
		// dry run shows which file that is.
		p, _ = filepath.Abs(p)
	}
	return p, nil
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func describeHop(b *transport.Config) string {
	agent := ""
	if b.UseAgent {
		agent = " and the agent"
	}
	return fmt.Sprintf("%s (keys %s%s; known_hosts %s)", describeDest(b),
		strings.TrimSuffix(keyList(b.KeyFiles), " (the agent only)"), agent, tildify(b.KnownHostsFile))
}

var tildify = transport.Tildify

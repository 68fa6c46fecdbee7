package sshsettings

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// maxHops matches transport's bound; beyond it a chain is a loop
// (ProxyJump a on b and b on a), reported here with where it was written.
const maxHops = 8

// chain is a host's bastions, the nearest first (its Bastion is the hop
// before it), with where each hop was chosen.
type chain struct {
	cfg  *transport.Config
	src  string // why the host has this chain (or none)
	srcs map[*transport.Config]string
}

func hopSource(c chain, b *transport.Config) string { return c.srcs[b] }

// hopSpec is what names one hop: an inventory bastion, or one entry of a
// ProxyJump line. Empty fields fall back to the hop's Host block in the
// ssh_config, then to the inventory's ssh section.
type hopSpec struct {
	alias      string // what Host blocks are matched against
	address    string // "" takes HostName, then alias
	port       int
	user       string
	keyFiles   []string
	knownHosts string
	next       *inventory.Bastion // the inventory's hop before this one
	listed     bool               // not the first of a ProxyJump list: the list names its hop before
	src        string
}

// hostChain is h's bastions: hosts[].ssh.bastion, else ssh.bastion, else
// the ProxyJump of its Host block.
func (r *Resolver) hostChain(h inventory.Host, hs inventory.HostSSH, aliases []string) (chain, error) {
	c := chain{srcs: map[*transport.Config]string{}}
	var err error
	switch {
	case hs.Bastion != nil:
		c.src = "inventory hosts[].ssh.bastion"
		c.cfg, err = r.invHop(&c, hs.Bastion, c.src, 0)
	case r.inv.SSH.Bastion != nil:
		c.src = "inventory ssh.bastion"
		c.cfg, err = r.invHop(&c, r.inv.SSH.Bastion, c.src, 0)
	default:
		v, _ := r.sc.get(aliases, "ProxyJump")
		c.src = "default"
		if v.src != "" {
			c.src = v.src + " (ProxyJump)"
			c.cfg, err = r.proxyJump(&c, v, 0)
		}
	}
	return c, err
}

func (r *Resolver) invHop(c *chain, b *inventory.Bastion, src string, depth int) (*transport.Config, error) {
	return r.hop(c, hopSpec{alias: b.Address, address: b.Address, port: b.Port, user: b.User,
		keyFiles: b.KeyFiles, knownHosts: b.KnownHosts, next: b.Bastion, src: src}, depth)
}

// proxyJump turns "a,b" into b reached through a, as ssh(1) does; the
// first hop's own Host block may name its ProxyJump in turn.
func (r *Resolver) proxyJump(c *chain, v value, depth int) (*transport.Config, error) {
	if strings.EqualFold(strings.TrimSpace(v.v), "none") {
		return nil, nil
	}
	var prev *transport.Config
	for i, entry := range strings.Split(v.v, ",") {
		spec, err := parseJump(strings.TrimSpace(entry), v.src)
		if err != nil {
			return nil, err
		}
		spec.src = v.src + " (ProxyJump)"
		spec.listed = i > 0
		hop, err := r.hop(c, spec, depth)
		if err != nil {
			return nil, err
		}
		if spec.listed {
			hop.Bastion = prev
		}
		prev = hop
	}
	return prev, nil
}

// parseJump reads one ProxyJump entry: [user@]host[:port] or
// ssh://[user@]host[:port].
func parseJump(entry, src string) (hopSpec, error) {
	bad := func() (hopSpec, error) {
		return hopSpec{}, fmt.Errorf("%s: ProxyJump entry %q is not [user@]host[:port]", src, entry)
	}
	s := entry
	if s == "" {
		return bad()
	}
	if strings.HasPrefix(s, "ssh://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return bad()
		}
		s = u.Host
		if u.User != nil {
			s = u.User.Username() + "@" + s
		}
	}
	var spec hopSpec
	if i := strings.LastIndex(s, "@"); i >= 0 {
		spec.user, s = s[:i], s[i+1:]
	}
	host := s
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad()
		}
		host, spec.port = h, n
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return bad()
	}
	spec.alias = host
	return spec, nil
}

// hop builds one bastion's connection settings. depth counts the hops
// behind the host; past maxHops the chain is a loop.
func (r *Resolver) hop(c *chain, s hopSpec, depth int) (*transport.Config, error) {
	if depth > maxHops || len(c.srcs) >= maxHops {
		return nil, fmt.Errorf("%s: more than %d bastions in a row: does a ProxyJump lead back to a bastion before it?", s.src, maxHops)
	}
	aliases := []string{s.alias}
	get := func(key string) value { v, _ := r.sc.get(aliases, key); return v }
	cfg := &transport.Config{
		PassphraseEnv:     r.inv.SSH.PassphraseEnv,
		Prompt:            r.opts.Prompt,
		AcceptNewHostKeys: r.opts.AcceptNewHostKeys,
		UseAgent:          r.inv.SSH.Agent,
	}
	// A hop's settings are shown as one line (describeHop), not one by one.
	var discard []Setting
	cfg.Address = first(cand{s.address, s.src, s.address != ""}, cfgv(r.hostName(get("HostName"), s.alias)), cand{s.alias, s.src, true}).v
	var err error
	if cfg.Port, err = r.port(first(cand{strconv.Itoa(s.port), s.src, s.port != 0}, cfgv(get("Port")), def(strconv.Itoa(inventory.DefaultSSHPort)))); err != nil {
		return nil, err
	}
	cfg.User = first(cand{s.user, s.src, s.user != ""}, cfgv(get("User")), def(r.inv.SSH.User)).v
	if len(s.keyFiles) > 0 {
		cfg.KeyFiles = s.keyFiles
	} else if cfg.KeyFiles, err = r.keyFiles(&discard, false, nil, aliases, cfg.User, cfg.Address); err != nil {
		return nil, err
	} else if len(cfg.KeyFiles) == 0 {
		cfg.KeyFiles = r.inv.SSH.KeyFiles
	}
	if v := get("IdentitiesOnly"); strings.EqualFold(v.v, "yes") {
		cfg.UseAgent = false
	}
	if s.knownHosts != "" {
		cfg.KnownHostsFile = s.knownHosts
	} else if cfg.KnownHostsFile, err = r.knownHosts(&discard, false, r.inv.SSH.KnownHosts, aliases, cfg.User, cfg.Address); err != nil {
		return nil, err
	}
	cfg.HashKnownHosts = strings.EqualFold(get("HashKnownHosts").v, "yes")
	if cfg.ConnectTimeout, err = r.timeout(&discard, aliases); err != nil {
		return nil, err
	}
	c.srcs[cfg] = s.src
	switch {
	case s.next != nil:
		cfg.Bastion, err = r.invHop(c, s.next, s.src+".bastion", depth+1)
	case !s.listed:
		if v := get("ProxyJump"); v.src != "" {
			cfg.Bastion, err = r.proxyJump(c, v, depth+1)
		}
	}
	return cfg, err
}

// skipSelf drops the host itself from its chain: the proxy that is every
// other host's bastion is reached directly (or by the hops before it), not
// through itself.
func skipSelf(b *transport.Config, address string, port int) *transport.Config {
	for h := b; h != nil; h = h.Bastion {
		if h.Address == address && h.Port == port {
			return h.Bastion
		}
	}
	return b
}

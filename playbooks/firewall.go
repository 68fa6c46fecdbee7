package playbooks

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

// firewallPlay and selinuxPlay let the cluster's traffic through where a
// host filters it, instead of what the seed does by hand before it starts
// ("关闭防火墙, 禁用SELinux": firewall off, SELinux off):
//   - where firewalld (RHEL's default) or ufw (Ubuntu's) is active, nginx's
//     port is opened to all, and each other port only to the hosts that use
//     it: Tomcat's HTTP port to the proxies, memcached to the other Tomcat
//     hosts, NTP to the hosts that take their time from this one;
//   - where SELinux is enabled, nginx may connect to the Tomcats
//     (httpd_can_network_connect), which the targeted policy forbids.
//
// What filters a host is probed once per run: where neither firewall is
// active and SELinux is off (a stock Debian) the steps are skipped and say
// why. Each opening is guarded (a rule already there is left alone) and
// journals its undo, so teardown closes exactly what apply opened.
func (c *Cluster) firewallPlay() engine.Play {
	const title = "firewall: open the cluster's ports"
	return engine.Play{Name: "firewall", Steps: []engine.Step{c.managed(
		c.firewallStep(title, func(f hostFilters, h *engine.Host) engine.Step {
			var rules []engine.Step
			for _, o := range c.openings(c.host(h)) {
				rules = append(rules, openRule("firewall: "+o.label, f, o.rule))
			}
			if len(rules) == 0 {
				return failStep{title, engine.Skip("no other host uses a port of this one")} // a skip, not a failure
			}
			return engine.Group{Label: title, Steps: rules}
		}))},
	}
}

// managed skips step when the inventory keeps apply out of filtering.
func (c *Cluster) managed(step engine.Step) engine.Step {
	return engine.When(func(*engine.Host) bool { return c.Inv.Cluster.ManageFirewall }, "cluster.manage_firewall: false", step)
}

// opening is one rule a host needs, with what it is for.
type opening struct {
	label string
	rule  firewallRule
}

// openings are the rules host h needs for its roles: nginx's port from
// anywhere, and Tomcat's, memcached's and NTP's ports from each other host
// that uses them (a host's own traffic stays on the host).
func (c *Cluster) openings(h inventory.Host) []opening {
	inv := c.Inv
	var out []opening
	from := func(port int, proto, what string, clients []inventory.Host) {
		for _, cl := range clients {
			if cl.Name != h.Name {
				out = append(out, opening{fmt.Sprintf("%d/%s (%s) from %s", port, proto, what, cl.Name),
					firewallRule{port: port, proto: proto, source: cl.Address}})
			}
		}
	}
	if h.Has(inventory.RoleProxy) {
		out = append(out, opening{fmt.Sprintf("%d/tcp (nginx) from anywhere", inv.Nginx.Listen), firewallRule{port: inv.Nginx.Listen, proto: "tcp"}})
	}
	if h.Has(inventory.RoleTomcat) {
		from(inv.Tomcat.Port, "tcp", "tomcat", c.allWithRole(inventory.RoleProxy))
	}
	if h.Has(inventory.RoleMemcached) {
		from(inv.Memcached.Port, "tcp", "memcached", c.allWithRole(inventory.RoleTomcat))
	}
	from(123, "udp", "ntp", Target{Inv: inv, Host: h}.timeClients())
	return out
}

// allWithRole is every cluster host with the role, even under --hosts.
func (c *Cluster) allWithRole(r inventory.Role) []inventory.Host {
	var hs []inventory.Host
	for _, h := range c.Inv.AllHosts() {
		if h.Has(r) {
			hs = append(hs, h)
		}
	}
	return hs
}

// firewallRule is one opening: port/proto from source ("" = from anywhere).
type firewallRule struct {
	port   int
	proto  string
	source string
}

// firewalld is the rule as a firewall-cmd option without its
// --add-/--remove-/--query- verb.
func (r firewallRule) firewalld() string {
	if r.source == "" {
		return "port=" + strconv.Itoa(r.port) + "/" + r.proto
	}
	family := "ipv4"
	if a, err := netip.ParseAddr(r.source); err == nil && a.Is6() && !a.Is4In6() {
		family = "ipv6"
	}
	return fmt.Sprintf(`rich-rule='rule family="%s" source address="%s" port port="%d" protocol="%s" accept'`, family, r.source, r.port, r.proto)
}

// ufw is the rule as ufw's arguments, in the canonical form `ufw show
// added` prints it back.
func (r firewallRule) ufw() string {
	if r.source == "" {
		return fmt.Sprintf("allow %d/%s", r.port, r.proto)
	}
	return fmt.Sprintf("allow from %s to any port %d proto %s", r.source, r.port, r.proto)
}

// openRule opens r in the firewall(s) the host runs: one command each.
func openRule(label string, f hostFilters, r firewallRule) engine.Step {
	var steps []engine.Step
	if f.firewalld {
		steps = append(steps, firewalldOpen(label+" (firewalld)", r))
	}
	if f.ufw {
		steps = append(steps, ufwOpen(label+" (ufw)", r))
	}
	if len(steps) == 1 {
		return steps[0]
	}
	return engine.Group{Label: label, Steps: steps}
}

// hostFilters is what filters a host's traffic.
type hostFilters struct{ firewalld, ufw, selinux bool }

// filtersProbe prints one word for each filter that is active on a host.
const filtersProbe = firewalldActive + " && echo firewalld; " + ufwActive + " && echo ufw; selinuxenabled 2>/dev/null && echo selinux; true"

// filtersOf probes h once per run: every firewall step asks, and a host
// without any filter (stock Debian) then costs one round trip in all.
func (c *Cluster) filtersOf(ctx context.Context, h *engine.Host) (hostFilters, error) {
	if f, ok := c.filters.Load(h.Name()); ok {
		return f.(hostFilters), nil
	}
	res, err := h.Conn.Run(ctx, filtersProbe)
	if err != nil {
		return hostFilters{}, fmt.Errorf("probe firewall and SELinux: %w", err)
	}
	var f hostFilters
	for _, w := range strings.Fields(res.Stdout) {
		switch w {
		case "firewalld":
			f.firewalld = true
		case "ufw":
			f.ufw = true
		case "selinux":
			f.selinux = true
		}
	}
	c.filters.Store(h.Name(), f)
	return f, nil
}

// filterStep builds its step from the host's filters at Check time, and
// is skipped on a host without the filter it is about.
type filterStep struct {
	c      *Cluster
	title  string
	needs  func(hostFilters) bool
	reason string
	build  func(hostFilters, *engine.Host) engine.Step
}

func (s filterStep) Title() string { return s.title }

// Probes: the filters, once a run (a host without any skips every step).
func (s filterStep) Probes(h *engine.Host) []string {
	if _, ok := s.c.filters.Load(h.Name()); ok {
		return nil
	}
	return []string{filtersProbe}
}

func (s filterStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	f, err := s.c.filtersOf(ctx, h)
	if err != nil {
		return nil, err
	}
	if !s.needs(f) {
		return nil, engine.Skip(s.reason)
	}
	return s.build(f, h).Check(ctx, h)
}

// firewallStep is a filterStep for hosts where firewalld or ufw is active.
func (c *Cluster) firewallStep(title string, build func(hostFilters, *engine.Host) engine.Step) engine.Step {
	return filterStep{c: c, title: title, needs: func(f hostFilters) bool { return f.firewalld || f.ufw },
		reason: "neither firewalld nor ufw is active", build: build}
}

// firewalldActive is true only where firewalld runs.
const firewalldActive = "systemctl is-active --quiet firewalld"

// firewalldOpen adds r to the permanent and the running configuration of
// firewalld's default zone, unless both have it. The undo also works with
// firewalld stopped (firewall-offline-cmd edits the permanent
// configuration), so a rule apply added does not come back at its next start.
func firewalldOpen(label string, r firewallRule) engine.Step {
	fw := func(verb string, permanent bool) string {
		if permanent {
			return "firewall-cmd --permanent --" + verb + "-" + r.firewalld()
		}
		return "firewall-cmd --" + verb + "-" + r.firewalld()
	}
	offline := func(verb string) string { return "firewall-offline-cmd --" + verb + "-" + r.firewalld() }
	return engine.Command{
		Label:  label,
		Unless: "! " + firewalldActive + " || { " + fw("query", true) + " && " + fw("query", false) + "; }",
		Cmd:    fw("add", true) + " && " + fw("add", false),
		Undo: "if " + firewalldActive + "; then " + fw("remove", true) + " && " + fw("remove", false) +
			"; else " + offline("remove") + "; fi",
		UndoUnless: "if " + firewalldActive + "; then ! " + fw("query", true) +
			"; elif command -v firewall-offline-cmd >/dev/null; then ! " + offline("query") + "; fi",
	}
}

// ufwActive is true only where ufw is installed and enabled.
const ufwActive = "ufw status 2>/dev/null | grep -q '^Status: active'"

// ufwOpen adds r to ufw's rules (which persist), unless it is there. The
// undo works whether ufw is enabled or not (its rules outlive a disable),
// so a rule apply added never waits for the next enable.
func ufwOpen(label string, r firewallRule) engine.Step {
	has := "ufw show added | grep -qxF " + engine.Quote("ufw "+r.ufw())
	return engine.Command{
		Label:      label,
		Unless:     "! { " + ufwActive + "; } || " + has,
		Cmd:        "ufw " + r.ufw(),
		Undo:       "ufw delete " + r.ufw(),
		UndoUnless: "! command -v ufw >/dev/null || ! " + has,
	}
}

// StaleFirewallStep closes the openings an earlier apply made that the
// inventory no longer wants (a port moved, a host gone): switching an
// option back leaves no hole in the host's firewall. Run after the
// rollout, once nothing uses the old ports any more.
func (c *Cluster) StaleFirewallStep() engine.Step {
	const title = "firewall: close openings no longer used"
	return c.managed(c.firewallStep(title, func(f hostFilters, h *engine.Host) engine.Step {
		want := map[string]bool{}
		for _, o := range c.openings(c.host(h)) {
			for _, s := range flatten(openRule("firewall: "+o.label, f, o.rule)) {
				want[s.Title()] = true
			}
		}
		return staleOpenings{title: title, want: want}
	}))
}

func flatten(s engine.Step) []engine.Step {
	if g, ok := s.(engine.Group); ok {
		return g.Steps
	}
	return []engine.Step{s}
}

type staleOpenings struct {
	title string
	want  map[string]bool // the opening steps' titles the inventory asks for now
}

func (s staleOpenings) Title() string { return s.title }

func (s staleOpenings) Probes(*engine.Host) []string { return []string{engine.JournalProbe("")} }

func (s staleOpenings) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	recs, _, err := engine.ReadJournal(ctx, h.Conn, engine.StateDir(ctx))
	if err != nil {
		return nil, err
	}
	var undo []engine.Record
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Kind != engine.RecordCommandRan || !strings.HasPrefix(r.Name, "firewall: ") || s.want[r.Name] || seen[r.Name] || r.Undo == "" {
			continue
		}
		seen[r.Name] = true
		if r.UndoUnless != "" { // already closed (by hand, or an earlier run)
			res, err := h.Conn.Run(ctx, r.UndoUnless)
			if err != nil {
				return nil, err
			}
			if res.OK() {
				continue
			}
		}
		undo = append(undo, r)
	}
	if len(undo) == 0 {
		return nil, nil
	}
	var names []string
	for _, r := range undo {
		names = append(names, strings.TrimPrefix(r.Name, "firewall: "))
	}
	return &engine.Change{
		Summary: "close " + strings.Join(names, "; "),
		Apply: func(ctx context.Context) error {
			for _, r := range undo {
				res, err := h.Conn.Run(ctx, r.Undo)
				if err != nil {
					return err
				}
				if err := res.ExitError("close " + r.Name); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

package playbooks

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/templates"
)

// Chrony steps of the base play: the seed installs chrony and replaces the
// distribution's pool line with its NTP server. Only on hosts whose
// inventory asks for time sync (Target.ManagesTime); elsewhere chrony is
// left alone. Unit drop-ins (the lab runs chronyd with -x from one) are not
// touched: only the config file is ours.

const restartChrony = "restart chrony"

func (c *Cluster) managesTime(h *engine.Host) bool { return c.target(h).ManagesTime() }

func (c *Cluster) chronySteps() []engine.Step {
	const why = "no ntp_servers for this host and no host takes time from it"
	return []engine.Step{
		engine.When(c.managesTime, why, engine.Package{Names: []string{"chrony"}}),
		engine.When(c.managesTime, why, engine.Notify(
			c.renderedFile("chrony config", func(p Paths) string { return p.ChronyConf }, Target.ChronyConf, fileOpts{}),
			restartChrony)),
		engine.When(c.managesTime, why, c.withPaths("service chrony", func(_ Target, p Paths) engine.Step {
			return engine.Service{Name: p.ChronyService, Package: "chrony", State: engine.Started, Enabled: engine.Bool(true), Label: "service chrony"}
		})),
	}
}

func (c *Cluster) chronyHandlers() []engine.Step {
	return []engine.Step{c.withPaths(restartChrony, func(_ Target, p Paths) engine.Step {
		return engine.Restart{Service: p.ChronyService, Label: restartChrony}
	})}
}

type tmplChrony struct {
	FQDN, Driftfile string
	Servers         []string
	SkippedSelf     bool
	Clients         []tmplUpstreamServer // hosts whose ntp_servers name this one (Port unused)
}

// ManagesTime reports whether chrony is configured on the host: it has NTP
// servers (its own or cluster.ntp_servers), or other hosts take their time
// from it. Otherwise the inventory leaves time synchronisation alone.
func (t Target) ManagesTime() bool {
	return len(t.Host.EffectiveNTPServers()) > 0 || len(t.timeClients()) > 0
}

// timeClients are the other cluster hosts that take their time from this
// one (inventory.TimeClients: the one rule apply and verify share).
func (t Target) timeClients() []inventory.Host { return t.Inv.TimeClients(t.Host) }

// ChronyConf is chrony.conf for any host that ManagesTime.
func (t Target) ChronyConf() ([]byte, error) {
	f, err := t.family()
	if err != nil {
		return nil, err
	}
	if !t.ManagesTime() {
		return nil, fmt.Errorf("render chrony.conf for %s: no ntp_servers and no host takes time from it; chrony is left alone", t.Host.Name)
	}
	d := tmplChrony{FQDN: t.Host.FQDN, Driftfile: f.ChronyDrift}
	for _, s := range t.Host.EffectiveNTPServers() {
		if inventory.NamesHost(s, t.Host) {
			d.SkippedSelf = true
			continue
		}
		d.Servers = append(d.Servers, s)
	}
	for _, c := range t.timeClients() {
		d.Clients = append(d.Clients, tmplUpstreamServer{Address: c.Address, FQDN: c.FQDN})
	}
	return templates.Render("chrony.conf.tmpl", d)
}

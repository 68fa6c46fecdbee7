package playbooks

import (
	"context"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/templates"
)

// basePlay is what the seed does first on every host by hand: hostname,
// timezone, the cluster's names in /etc/hosts and time sync (chrony.go).
func (c *Cluster) basePlay() engine.Play {
	return engine.Play{
		Name: "base",
		Steps: append([]engine.Step{
			perHost("hostname = FQDN", func(h *engine.Host) engine.Step { return hostnameStep(c.host(h).FQDN) }),
			engine.When(func(*engine.Host) bool { return c.Inv.Cluster.Timezone != "" },
				"no cluster.timezone in the inventory", timezoneStep(c.Inv.Cluster.Timezone)),
			c.etcHostsStep(),
		}, c.chronySteps()...),
		Handlers: c.chronyHandlers(),
	}
}

// hostnameStep sets the static hostname to the FQDN, as the seed's
// `hostnamectl set-hostname t58.shone.cn`; the engine step records the
// previous name (and /etc/hostname) for teardown.
func hostnameStep(fqdn string) engine.Step {
	return engine.Hostname{Name: fqdn}
}

// timezoneStep sets the timezone, as the seed's `timedatectl set-timezone`,
// recording the previous one for teardown.
func timezoneStep(tz string) engine.Step {
	return engine.Timezone{Name: tz}
}

// hostEntry is one line of the managed /etc/hosts block.
type hostEntry struct{ Address, FQDN, Name string }

// etcHostsStep keeps a block with every cluster host in /etc/hosts; the
// rest of the file (localhost lines, the user's own entries) is untouched.
func (c *Cluster) etcHostsStep() engine.Step {
	var entries []hostEntry
	for _, h := range c.Inv.AllHosts() {
		entries = append(entries, hostEntry{Address: h.Address, FQDN: h.FQDN, Name: h.Name})
	}
	return renderedBlock{path: "/etc/hosts", name: "hosts", template: "hosts.tmpl", data: entries}
}

// renderedBlock is a Block whose content comes from a template, rendered
// when the step runs so a template error fails the host, not the process.
type renderedBlock struct {
	path, name, template string
	data                 any
}

func (r renderedBlock) Title() string { return "block " + r.name + " in " + r.path }

func (r renderedBlock) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	body, err := templates.Render(r.template, r.data)
	if err != nil {
		return nil, err
	}
	return engine.Block{Path: r.path, Name: r.name, Content: strings.TrimLeft(string(body), "\n"), Backup: true}.Check(ctx, h)
}

func (r renderedBlock) Probes(h *engine.Host) []string { return engine.Block{Path: r.path}.Probes(h) }

// perHost builds a step from the host it runs on, for steps whose
// parameters differ per host (hostname, jvmRoute, ...).
// The title is fixed because handlers and events refer to steps by title
// before any host is known.
func perHost(title string, build func(*engine.Host) engine.Step) engine.Step {
	return hostStep{title: title, build: func(_ context.Context, h *engine.Host) engine.Step { return build(h) },
		probes: func(h *engine.Host) []string { return engine.StepProbes(build(h), h) }}
}

// perHostCtx is perHost for a build that does work of its own (a download):
// it gets the run's context, so Ctrl-C cancels it.
func perHostCtx(title string, build func(context.Context, *engine.Host) engine.Step) engine.Step {
	return hostStep{title: title, build: build}
}

type hostStep struct {
	title string
	build func(context.Context, *engine.Host) engine.Step
	// probes names the built step's reads without building it (a build
	// that downloads must not run to plan a batch); nil names none.
	probes func(*engine.Host) []string
}

func (s hostStep) Title() string { return s.title }

func (s hostStep) Probes(h *engine.Host) []string {
	if s.probes == nil {
		return nil
	}
	return s.probes(h)
}

func (s hostStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	return s.build(ctx, h).Check(ctx, h)
}

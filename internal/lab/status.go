package lab

import (
	"context"
)

// HostStatus is one host's line in `clusterctl lab status`.
type HostStatus struct {
	Host
	Running  bool   // its systemd-nspawn is running
	SSH      bool   // sshd answered with the pinned key and took the lab key
	SSHError string // why not, when Running but not SSH
}

// Status reports every host of the lab: from the state file when a lab is
// up, else the hosts a lab with opts would have (all not running).
func Status(ctx context.Context, opts Options) ([]HostStatus, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	hosts := plan(o)
	l, lerr := Load(opts)
	if lerr == nil {
		hosts = l.Hosts
	}
	running := labMachines()
	out := make([]HostStatus, len(hosts))
	for i, h := range hosts {
		out[i].Host = h
		out[i].PID = running[h.Name]
		out[i].Running = out[i].PID != 0
	}
	if lerr != nil {
		return out, nil
	}
	cfg, err := l.ClientConfig()
	if err != nil {
		return out, err
	}
	forEachHost(hosts, func(i int, h Host) error {
		if !out[i].Running {
			return nil
		}
		if err := probe(ctx, h, cfg); err != nil {
			out[i].SSHError = err.Error()
		} else {
			out[i].SSH = true
		}
		return nil
	})
	return out, nil
}

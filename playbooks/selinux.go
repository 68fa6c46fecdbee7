package playbooks

import (
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

// selinuxPlay lets nginx connect to the Tomcats where SELinux is enabled
// (httpd_can_network_connect, which the targeted policy forbids); the seed
// turns SELinux off instead. Skipped, and saying why, where it is disabled.
func (c *Cluster) selinuxPlay() engine.Play {
	return engine.Play{Name: "selinux", Hosts: c.withRole(inventory.RoleProxy), Steps: []engine.Step{c.managed(
		filterStep{c: c, title: "selinux: httpd_can_network_connect on", needs: func(f hostFilters) bool { return f.selinux },
			reason: "SELinux is disabled", build: func(hostFilters, *engine.Host) engine.Step { return seBoolean("httpd_can_network_connect") }})},
	}
}

// seBoolean turns an SELinux boolean on, persistently, where SELinux is
// enabled (selinuxenabled is missing or false elsewhere).
func seBoolean(name string) engine.Step {
	is := func(v string) string {
		return "! selinuxenabled 2>/dev/null || getsebool " + name + " | grep -q -- '--> " + v + "$'"
	}
	return engine.Command{
		Label:      "selinux: " + name + " on",
		Unless:     is("on"),
		Cmd:        "setsebool -P " + name + " on",
		Undo:       "setsebool -P " + name + " off",
		UndoUnless: is("off"),
	}
}

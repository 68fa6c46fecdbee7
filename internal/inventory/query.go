package inventory

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Has reports whether the host has the role.
func (h Host) Has(role Role) bool { return slices.Contains(h.Roles, role) }

// SSHUser is the user to log in as: the host's ssh.user override, else the global ssh.user.
func (h Host) SSHUser() string {
	if h.SSH != nil && h.SSH.User != "" {
		return h.SSH.User
	}
	if h.inherited != nil {
		return h.inherited.sshUser
	}
	return DefaultSSHUser // a Host built by hand, not by Load
}

// SSHPort is the port to connect to: the host's ssh.port override, else the global ssh.port.
func (h Host) SSHPort() int {
	if h.SSH != nil && h.SSH.Port != 0 {
		return h.SSH.Port
	}
	if h.inherited != nil {
		return h.inherited.sshPort
	}
	return DefaultSSHPort
}

// SSHWritten reports whether the inventory itself sets the SSH setting key
// ("user", "port", "key_files", "known_hosts", "connect_timeout", "agent")
// for h, in hosts[].ssh or in ssh, rather than leaving it to a default:
// only a written value wins over ~/.ssh/config.
func (inv *Inventory) SSHWritten(h Host, key string) bool {
	for i, o := range inv.AllHosts() {
		if o.Name == h.Name && inv.pos.has(fmt.Sprintf("hosts[%d].ssh.%s", i, key)) {
			return true
		}
	}
	return inv.pos.has("ssh." + key)
}

// EffectiveNTPServers is the host's ntp_servers override, else cluster.ntp_servers.
// Empty means: leave time synchronisation alone.
func (h Host) EffectiveNTPServers() []string {
	if len(h.NTPServers) > 0 {
		return h.NTPServers
	}
	if h.inherited != nil {
		return h.inherited.ntpServers
	}
	return nil
}

// HostsWithRole returns the target hosts (see Limit) with the role, in inventory order.
func (inv *Inventory) HostsWithRole(role Role) []Host {
	var hosts []Host
	for _, h := range inv.Hosts {
		if h.Has(role) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// Host finds a host by name among the whole cluster, so that a play limited
// to one host can still look up its peers.
func (inv *Inventory) Host(name string) (Host, bool) {
	for _, h := range inv.AllHosts() {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// AllHosts is every host of the cluster, even after Limit. Facts about the
// cluster as a whole (MSM's memcachedNodes, nginx's upstreams) must come from
// here, or from topology.Build, never from Hosts: `--hosts t58` must not
// render a context.xml that forgets t68.
func (inv *Inventory) AllHosts() []Host {
	if inv.all == nil {
		return inv.Hosts // an Inventory built by hand, not by Load
	}
	return inv.all
}

// File is the path the inventory was loaded from.
func (inv *Inventory) File() string { return inv.file }

// Limit returns a copy whose Hosts are only the named ones (in inventory
// order), for `--hosts`. AllHosts still returns the whole cluster. An unknown
// name is an error that lists the known ones.
func (inv *Inventory) Limit(names []string) (*Inventory, error) {
	want := map[string]bool{}
	var unknown []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := inv.Host(n); !ok {
			unknown = append(unknown, fmt.Sprintf("%q", n))
		}
		want[n] = true
	}
	all := inv.AllHosts()
	if len(unknown) > 0 {
		known := make([]string, len(all))
		for i, h := range all {
			known[i] = h.Name
		}
		return nil, fmt.Errorf("--hosts: unknown host %s; %s has %s", strings.Join(unknown, ", "), inv.file, strings.Join(known, ", "))
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("--hosts: no host names given")
	}
	limited := *inv
	limited.all = all
	limited.Hosts = nil
	for _, h := range all {
		if want[h.Name] {
			limited.Hosts = append(limited.Hosts, h)
		}
	}
	return &limited, nil
}

// MSMModule is the suffix of the memcached-session-manager-tcN jar that
// matches this Tomcat: "tc8" for 8.5.x, "tc9" for 9.0.x (a wrong one fails
// at start with NoSuchMethodError). Empty for a version Load would reject.
func (t Tomcat) MSMModule() string {
	switch {
	case strings.HasPrefix(t.Version, "8.5."):
		return "tc8"
	case strings.HasPrefix(t.Version, "9.0."):
		return "tc9"
	}
	return ""
}

// NamesHost reports whether server, an ntp_servers entry, names host h:
// its name, its fqdn (any case, a trailing dot allowed) or its address.
// Apply (who serves time, who is told to use whom) and verify (who must
// answer on udp/123) both decide by it.
func NamesHost(server string, h Host) bool {
	s := strings.ToLower(strings.TrimSuffix(server, "."))
	return s == strings.ToLower(h.Name) || s == strings.ToLower(strings.TrimSuffix(h.FQDN, ".")) || s == h.Address
}

// TimeClients are the other cluster hosts whose effective ntp_servers name
// h, in inventory order (whatever --hosts selected).
func (inv *Inventory) TimeClients(h Host) []Host {
	var clients []Host
	for _, o := range inv.AllHosts() {
		if o.Name == h.Name {
			continue
		}
		for _, s := range o.EffectiveNTPServers() {
			if NamesHost(s, h) {
				clients = append(clients, o)
				break
			}
		}
	}
	return clients
}

// CatalinaHome is where Tomcat lives on every Tomcat host: the seed's
// symlink <tomcat.prefix>/tomcat to the unpacked apache-tomcat-<version>.
// Apply installs it there, verify and teardown look there.
func (inv *Inventory) CatalinaHome() string { return path.Join(inv.Tomcat.Prefix, "tomcat") }

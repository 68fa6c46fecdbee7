package inventory

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// hosts checks each host, then what must be unique or present across hosts.
func (c *checker) hosts(inv *Inventory) {
	if len(inv.Hosts) == 0 {
		c.fail("hosts", "is required: list at least one proxy and the tomcat/memcached hosts")
		return
	}
	byName := map[string]string{}    // name -> path of first host with it
	byAddress := map[string]string{} // normalised address -> path
	byFQDN := map[string]string{}    // lower-case fqdn -> path
	for i, h := range inv.Hosts {
		hp := fmt.Sprintf("hosts[%d]", i)
		c.host(inv, hp, h)
		prevName, dupName := byName[h.Name]
		if dupName && h.Name != "" {
			c.fail(hp+".name", "duplicate host name %q (also %s)", h.Name, prevName)
		} else {
			byName[h.Name] = hp
		}
		if a, err := netip.ParseAddr(h.Address); err == nil {
			key := a.Unmap().String()
			if prev, dup := byAddress[key]; dup {
				c.fail(hp+".address", "duplicate address %s (also %s)", h.Address, prev)
			} else {
				byAddress[key] = hp
			}
		}
		// A defaulted fqdn of a duplicate name is a duplicate too; say it once.
		if h.FQDN != "" && !(dupName && !c.pos.has(hp+".fqdn")) {
			key := strings.ToLower(strings.TrimSuffix(h.FQDN, "."))
			if prev, dup := byFQDN[key]; dup {
				c.fail(hp+".fqdn", "duplicate fqdn %q (also %s)", h.FQDN, prev)
			} else {
				byFQDN[key] = hp
			}
		}
	}
	c.roleCounts(inv)
}

func (c *checker) host(inv *Inventory, hp string, h Host) {
	switch {
	case h.Name == "":
		c.fail(hp+".name", "is required")
	case !wordRE.MatchString(h.Name):
		// The name is the Tomcat jvmRoute, which MSM appends to session ids
		// after a '.'; it must match \w+ (a '.' in it breaks MSM, issue #274).
		c.fail(hp+".name", "%q may hold only letters, digits and '_' (it becomes the Tomcat jvmRoute, which memcached-session-manager needs to match \\w+; a '.' breaks it)", h.Name)
	}

	if h.Address == "" {
		c.fail(hp+".address", "is required (the host's IP address)")
	} else if a, err := netip.ParseAddr(h.Address); err != nil || a.Zone() != "" {
		c.fail(hp+".address", "%q is not an IP address", h.Address)
	} else if h.Has(RoleMemcached) && !a.Is4() {
		// MSM parses memcachedNodes as id:host:port with host = [^:]+.
		c.fail(hp+".address", "%s: a memcached host needs a plain IPv4 address (memcached-session-manager's memcachedNodes id:host:port cannot hold an IPv6 or IPv4-mapped address)", h.Address)
	} else if h.Has(RoleTomcat) && !a.Is4() {
		// nginx's upstream `server` lines and the probes write host:port.
		c.fail(hp+".address", "%s: a Tomcat host needs a plain IPv4 address (nginx's upstream server lines are written as address:port)", h.Address)
	}

	if h.FQDN == "" {
		c.fail(hp+".fqdn", "is required when cluster.domain is not set (it defaults to name.domain)")
	} else if !isHostname(h.FQDN) {
		c.fail(hp+".fqdn", "%q is not a valid host name", h.FQDN)
	}

	switch {
	case !c.pos.has(hp + ".roles"):
		c.fail(hp+".roles", "is required: a list of %s", roleList())
	case len(h.Roles) == 0:
		c.fail(hp+".roles", "is empty: list at least one of %s", roleList())
	}
	for j, r := range h.Roles {
		rp := fmt.Sprintf("%s.roles[%d]", hp, j)
		if !slices.Contains(Roles, r) {
			c.fail(rp, "unknown role %q; roles are %s", r, roleList())
		} else if slices.Index(h.Roles, r) != j {
			c.fail(rp, "role %q is listed twice", r)
		}
	}

	if h.SSH != nil {
		if c.pos.has(hp+".ssh.user") && !unixUserRE.MatchString(h.SSH.User) {
			c.fail(hp+".ssh.user", "%q is not a valid user name", h.SSH.User)
		}
		if c.pos.has(hp + ".ssh.port") {
			c.port(hp+".ssh.port", h.SSH.Port)
		}
		if c.pos.has(hp+".ssh.address") && !isHostOrIP(h.SSH.Address) {
			c.fail(hp+".ssh.address", "%q is neither a host name nor an IP address", h.SSH.Address)
		}
		c.bastion(hp+".ssh.bastion", h.SSH.Bastion)
	}
	c.ntpServers(hp+".ntp_servers", h.NTPServers)
	c.portClashes(inv, hp, h)
}

// portClashes catches two services of one host wanting the same port.
func (c *checker) portClashes(inv *Inventory, hp string, h Host) {
	type service struct {
		field string
		port  int
	}
	var services []service
	if h.Has(RoleProxy) {
		services = append(services, service{"nginx.listen", inv.Nginx.Listen})
	}
	if h.Has(RoleTomcat) {
		services = append(services, service{"tomcat.port", inv.Tomcat.Port}, service{"tomcat.shutdown_port", inv.Tomcat.ShutdownPort})
	}
	if h.Has(RoleMemcached) {
		services = append(services, service{"memcached.port", inv.Memcached.Port})
	}
	for i, a := range services {
		for _, b := range services[i+1:] {
			// tomcat.port == shutdown_port is reported once, by the tomcat check.
			if a.port == b.port && !(a.field == "tomcat.port" && b.field == "tomcat.shutdown_port") {
				c.fail(hp+".roles", "%s and %s are both %d on this host", a.field, b.field, a.port)
			}
		}
	}
}

// roleCounts checks the cluster has what the seed's layout needs.
func (c *checker) roleCounts(inv *Inventory) {
	count := func(r Role) (n int, names []string) {
		for _, h := range inv.Hosts {
			if h.Has(r) {
				n++
				names = append(names, h.Name)
			}
		}
		return n, names
	}
	if n, _ := count(RoleProxy); n == 0 {
		c.fail("hosts", "no host has role proxy: nginx needs a host in front of the Tomcats")
	}
	tomcats, tomcatNames := count(RoleTomcat)
	memcacheds, memcachedNames := count(RoleMemcached)
	switch {
	case tomcats == 0:
		c.fail("hosts", "no host has role tomcat")
	case tomcats < 2 && inv.MSM.Sticky:
		c.fail("hosts", "msm.sticky needs at least 2 tomcat hosts (each backs up to another host's memcached and fails over to its own); found %d: %s", tomcats, strings.Join(tomcatNames, ", "))
	}
	switch {
	case memcacheds == 0:
		c.fail("hosts", "no host has role memcached")
	case memcacheds < 2 && inv.MSM.Sticky:
		c.fail("hosts", "msm.sticky needs at least 2 memcached hosts (MSM refuses failoverNodes with a single node); found %d: %s", memcacheds, strings.Join(memcachedNames, ", "))
	}
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

package playbooks

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/platform"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// This file holds what every rendered file shares: the Target a file is
// rendered for, where each file goes per OS family (Paths, the family
// table). Each file's own builder lives next to its play (nginx.go,
// tomcat.go, memcached.go, msm.go, chrony.go): it picks out of the cluster
// what one template needs, into a small struct (tmpl*), so the template
// only formats and its data type documents its inputs. Builders touch no
// host: the plays decide where, when and with which handler.

// Target is one host to render files for: the whole cluster (for peers:
// memcachedNodes, upstreams, NTP clients), its MSM layout, the host itself
// and its OS family (engine.FamilyDebian or engine.FamilyRHEL), which
// decides paths, service users and file formats.
type Target struct {
	Inv    *inventory.Inventory
	Topo   *topology.Topology
	Host   inventory.Host
	Family engine.Family
	// Drained are the Tomcats a rollout has taken out of nginx's upstreams
	// on this proxy (playbooks/drain.go).
	Drained map[string]bool
}

// Paths is where each rendered file goes on a host of one family, and the
// family's names the plays need alongside.
type Paths struct {
	NginxConf        string // /etc/nginx/nginx.conf
	NginxUser        string // www-data | nginx
	MemcachedConf    string // /etc/memcached.conf | /etc/sysconfig/memcached
	MemcachedUser    string // memcache | memcached (the package creates it)
	ChronyConf       string // /etc/chrony/chrony.conf | /etc/chrony.conf
	ChronyService    string // chrony | chronyd
	TomcatUnit       string // /etc/systemd/system/tomcat.service
	JDKProfile       string // /etc/profile.d/jdk.sh
	TomcatProfile    string // /etc/profile.d/tomcat.sh
	CatalinaHome     string // <tomcat.prefix>/tomcat, the seed's symlink to apache-tomcat-<version>
	ContextXML       string // <CatalinaHome>/conf/context.xml
	ServerXML        string // <CatalinaHome>/conf/server.xml
	ProbeDir         string // <CatalinaHome>/webapps/probe
	MemcachedService string // memcached
}

// family is the target's row of platform.Families.
func (t Target) family() (platform.Names, error) {
	f, err := platform.Of(t.Family)
	if err != nil {
		return f, fmt.Errorf("render for %s: %w", t.Host.Name, err)
	}
	return f, nil
}

// Paths returns the target's file locations.
func (t Target) Paths() (Paths, error) {
	f, err := t.family()
	if err != nil {
		return Paths{}, err
	}
	p := commonPaths(t.Inv)
	p.NginxUser = f.NginxUser
	p.MemcachedConf, p.MemcachedUser = f.MemcachedConf, f.MemcachedUser
	p.ChronyConf, p.ChronyService = f.ChronyConf, f.ChronyService
	return p, nil
}

// nginxConfPath is where nginx.conf is on every family (a constant: the
// drain step's title names it, before any host is known).
const nginxConfPath = "/etc/nginx/nginx.conf"

// commonPaths are the paths every family shares: what step titles name,
// since a title is fixed before any host's family is known.
func commonPaths(inv *inventory.Inventory) Paths {
	home := inv.CatalinaHome()
	return Paths{
		NginxConf:        nginxConfPath,
		MemcachedService: "memcached",
		TomcatUnit:       "/etc/systemd/system/tomcat.service",
		JDKProfile:       "/etc/profile.d/jdk.sh",
		TomcatProfile:    "/etc/profile.d/tomcat.sh",
		CatalinaHome:     home,
		ContextXML:       home + "/conf/context.xml",
		ServerXML:        home + "/conf/server.xml",
		ProbeDir:         home + "/webapps" + topology.ProbeContext,
	}
}

// needRole fails rendering a file for a host that does not run its service.
func (t Target) needRole(r inventory.Role, file string) error {
	if !t.Host.Has(r) {
		return fmt.Errorf("render %s for %s: the host has no role %s", file, t.Host.Name, r)
	}
	return nil
}

// tomcat is the host's place in the MSM layout.
func (t Target) tomcat(file string) (topology.Tomcat, error) {
	if err := t.needRole(inventory.RoleTomcat, file); err != nil {
		return topology.Tomcat{}, err
	}
	tc, ok := t.Topo.Tomcat(t.Host.Name)
	if !ok {
		return topology.Tomcat{}, fmt.Errorf("render %s for %s: not in the topology", file, t.Host.Name)
	}
	return tc, nil
}

// fqdn of a cluster host by inventory name, for comments.
func (t Target) fqdn(name string) string {
	if h, ok := t.Inv.Host(name); ok {
		return h.FQDN
	}
	return name
}

// ---- nginx.conf -------------------------------------------------------------

package playbooks

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
	"github.com/clusterctl/clusterctl/templates"
)

// This file turns the inventory and topology into the exact bytes of every
// configuration file clusterctl writes. Each function picks out of the
// cluster what one template needs, into a small struct (tmpl*), so a
// template only formats and its data type documents its inputs. Nothing
// here touches a host: the plays decide where, when and with which handler.

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

// familyFiles is what differs between Debian-like and RHEL-like hosts.
type familyFiles struct {
	nginxUser, nginxModules                         string
	memcachedConf, memcachedUser, memcachedTemplate string
	chronyConf, chronyDrift, chronyService          string
	// distroTomcat are the distribution's Tomcat packages: installed next
	// to ours they fight over the ports (preflight's conflicts check).
	distroTomcat []string
}

var familyFilesByFamily = map[engine.Family]familyFiles{
	engine.FamilyDebian: {
		nginxUser:         "www-data",
		nginxModules:      "/etc/nginx/modules-enabled/*.conf",
		memcachedConf:     "/etc/memcached.conf",
		memcachedUser:     "memcache",
		memcachedTemplate: "memcached.conf.tmpl",
		chronyConf:        "/etc/chrony/chrony.conf",
		chronyDrift:       "/var/lib/chrony/chrony.drift",
		chronyService:     "chrony",
		distroTomcat:      []string{"tomcat9", "tomcat10", "tomcat11"},
	},
	engine.FamilyRHEL: {
		nginxUser:         "nginx",
		nginxModules:      "/usr/share/nginx/modules/*.conf",
		memcachedConf:     "/etc/sysconfig/memcached",
		memcachedUser:     "memcached",
		memcachedTemplate: "memcached.sysconfig.tmpl",
		chronyConf:        "/etc/chrony.conf",
		chronyDrift:       "/var/lib/chrony/drift",
		chronyService:     "chronyd",
		distroTomcat:      []string{"tomcat"},
	},
}

func (t Target) family() (familyFiles, error) {
	f, ok := familyFilesByFamily[t.Family]
	if !ok {
		return familyFiles{}, fmt.Errorf("render for %s: unsupported OS family %q (want %q or %q)", t.Host.Name, t.Family, engine.FamilyDebian, engine.FamilyRHEL)
	}
	return f, nil
}

// Paths returns the target's file locations.
func (t Target) Paths() (Paths, error) {
	f, err := t.family()
	if err != nil {
		return Paths{}, err
	}
	home := t.Inv.CatalinaHome()
	return Paths{
		NginxConf:        "/etc/nginx/nginx.conf",
		NginxUser:        f.nginxUser,
		MemcachedConf:    f.memcachedConf,
		MemcachedUser:    f.memcachedUser,
		MemcachedService: "memcached",
		ChronyConf:       f.chronyConf,
		ChronyService:    f.chronyService,
		TomcatUnit:       "/etc/systemd/system/tomcat.service",
		JDKProfile:       "/etc/profile.d/jdk.sh",
		TomcatProfile:    "/etc/profile.d/tomcat.sh",
		CatalinaHome:     home,
		ContextXML:       home + "/conf/context.xml",
		ServerXML:        home + "/conf/server.xml",
		ProbeDir:         home + "/webapps" + topology.ProbeContext,
	}, nil
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

type tmplNginx struct {
	Cluster, Family, Balance        string
	User, ModulesInclude, MimeTypes string
	LogDir                          string
	Listen                          int
	Servers                         []tmplUpstreamServer // every Tomcat: upstream tomcat-servers
	Routes                          []tmplRoute          // sticky only: one upstream per jvmRoute
	ProxyTarget                     string               // what proxy_pass names: an upstream or $msm_upstream
	ProbePath                       string               // "/probe/"
}

type tmplUpstreamServer struct {
	Address, FQDN string
	Port          int
	Down          bool // drained by a rollout: nginx sends it nothing, sticky sessions included
}

type tmplRoute struct {
	Route, Upstream string
	Primary         tmplUpstreamServer
	Backups         []tmplUpstreamServer
}

// NginxConf is /etc/nginx/nginx.conf for a proxy host.
func (t Target) NginxConf() ([]byte, error) {
	f, err := t.family()
	if err != nil {
		return nil, err
	}
	if err := t.needRole(inventory.RoleProxy, "nginx.conf"); err != nil {
		return nil, err
	}
	d := tmplNginx{
		Cluster: t.Inv.Cluster.Name, Family: string(t.Family), Balance: t.Inv.Nginx.Balance,
		User: f.nginxUser, ModulesInclude: f.nginxModules, MimeTypes: "/etc/nginx/mime.types", LogDir: "/var/log/nginx",
		Listen: t.Inv.Nginx.Listen, ProxyTarget: "tomcat-servers", ProbePath: topology.ProbeContext + "/",
	}
	for _, tc := range t.Topo.Tomcats {
		d.Servers = append(d.Servers, tmplUpstreamServer{Address: tc.Address, Port: tc.Port, FQDN: t.fqdn(tc.Host), Down: t.Drained[tc.Host]})
	}
	switch t.Inv.Nginx.Balance {
	case inventory.BalanceRoundRobin, inventory.BalanceIPHash:
	case inventory.BalanceSticky:
		d.ProxyTarget = "$msm_upstream"
		for i, tc := range t.Topo.Tomcats {
			r := tmplRoute{Route: tc.JvmRoute, Upstream: "tomcat_" + tc.JvmRoute, Primary: d.Servers[i]}
			for j, s := range d.Servers {
				if j != i {
					r.Backups = append(r.Backups, s)
				}
			}
			d.Routes = append(d.Routes, r)
		}
	default:
		return nil, fmt.Errorf("render nginx.conf: unknown nginx.balance %q", t.Inv.Nginx.Balance)
	}
	return templates.Render("nginx.conf.tmpl", d)
}

// ---- context.xml ------------------------------------------------------------

type tmplContext struct {
	MSMVersion, JvmRoute        string
	Sticky                      bool
	MemcachedNodes              string
	FailoverNodes, FailoverHost string // empty when not sticky
	RequestURIIgnorePattern     string // empty: attribute left out (MSM's default, none)
	SessionBackupAsync          bool
	OperationTimeoutMS          int64
	StorageKeyPrefix            string // empty: attribute left out (MSM's default)
	TranscoderFactoryClass      string
}

// transcoderFactories maps msm.serializer to MSM's transcoderFactoryClass.
var transcoderFactories = map[string]string{
	inventory.SerializerJava: "de.javakaffee.web.msm.JavaSerializationTranscoderFactory",
	inventory.SerializerKryo: "de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory",
}

// ContextXML is <CatalinaHome>/conf/context.xml for a Tomcat host: Tomcat's
// default content plus MSM's Manager with this host's failover node.
func (t Target) ContextXML() ([]byte, error) {
	tc, err := t.tomcat("context.xml")
	if err != nil {
		return nil, err
	}
	msm := t.Inv.MSM
	factory, ok := transcoderFactories[msm.Serializer]
	if !ok {
		return nil, fmt.Errorf("render context.xml: unknown msm.serializer %q", msm.Serializer)
	}
	d := tmplContext{
		MSMVersion: msm.Version, JvmRoute: tc.JvmRoute, Sticky: t.Topo.Sticky,
		MemcachedNodes: tc.MemcachedNodes, FailoverNodes: tc.FailoverNodes,
		RequestURIIgnorePattern: msm.RequestURIIgnorePattern, SessionBackupAsync: msm.SessionBackupAsync,
		OperationTimeoutMS: msm.OperationTimeout.Milliseconds(), StorageKeyPrefix: msm.StorageKeyPrefix,
		TranscoderFactoryClass: factory,
	}
	if tc.FailoverNodes != "" {
		d.FailoverHost = tc.FailoverNode.Host
	}
	return templates.Render("context.xml.tmpl", d)
}

// ---- server.xml -------------------------------------------------------------

type tmplServer struct {
	TomcatVersion, FQDN, JvmRoute string
	ShutdownPort, Port            int
}

// ServerXML is <CatalinaHome>/conf/server.xml for a Tomcat host.
func (t Target) ServerXML() ([]byte, error) {
	tc, err := t.tomcat("server.xml")
	if err != nil {
		return nil, err
	}
	shutdown := t.Inv.Tomcat.ShutdownPort
	if shutdown <= 0 { // 0 or -1 in the inventory: no shutdown port, Tomcat's -1
		shutdown = -1
	}
	return templates.Render("server.xml.tmpl", tmplServer{
		TomcatVersion: t.Inv.Tomcat.Version, FQDN: t.Host.FQDN, JvmRoute: tc.JvmRoute,
		ShutdownPort: shutdown, Port: t.Inv.Tomcat.Port,
	})
}

// ---- tomcat.service -----------------------------------------------------------

type tmplTomcatUnit struct {
	TomcatVersion, User, Group, JavaHome, CatalinaHome string
}

// TomcatService is /etc/systemd/system/tomcat.service for a Tomcat host.
func (t Target) TomcatService() ([]byte, error) {
	if _, err := t.tomcat("tomcat.service"); err != nil {
		return nil, err
	}
	if _, err := t.family(); err != nil {
		return nil, err
	}
	// Group = user: the service user is created with a group of its own
	// name, as the seed's `useradd -r` does.
	u := t.Inv.Tomcat.User
	return templates.Render("tomcat.service.tmpl", tmplTomcatUnit{
		TomcatVersion: t.Inv.Tomcat.Version, User: u, Group: u,
		JavaHome: t.Inv.Java.Home, CatalinaHome: t.Inv.CatalinaHome(),
	})
}

// ---- /etc/profile.d -----------------------------------------------------------

type tmplProfile struct{ JavaHome, CatalinaHome string }

// JDKProfile is /etc/profile.d/jdk.sh for a Tomcat host (where the JDK is).
func (t Target) JDKProfile() ([]byte, error) { return t.profile("jdk.sh.tmpl") }

// TomcatProfile is /etc/profile.d/tomcat.sh for a Tomcat host.
func (t Target) TomcatProfile() ([]byte, error) { return t.profile("tomcat.sh.tmpl") }

func (t Target) profile(name string) ([]byte, error) {
	if err := t.needRole(inventory.RoleTomcat, strings.TrimSuffix(name, ".tmpl")); err != nil {
		return nil, err
	}
	return templates.Render(name, tmplProfile{JavaHome: t.Inv.Java.Home, CatalinaHome: t.Inv.CatalinaHome()})
}

// ---- memcached ----------------------------------------------------------------

type tmplMemcached struct {
	NodeID, FQDN, User, Listen     string
	AlsoLoopback                   bool
	Port, MemoryMB, MaxConnections int
}

// MemcachedConf is the memcached configuration of a memcached host in its
// family's format (Paths().MemcachedConf says where).
func (t Target) MemcachedConf() ([]byte, error) {
	f, err := t.family()
	if err != nil {
		return nil, err
	}
	if err := t.needRole(inventory.RoleMemcached, "memcached config"); err != nil {
		return nil, err
	}
	d := tmplMemcached{
		FQDN: t.Host.FQDN, User: f.memcachedUser, Listen: t.Host.Address,
		Port: t.Inv.Memcached.Port, MemoryMB: t.Inv.Memcached.MemoryMB, MaxConnections: t.Inv.Memcached.MaxConnections,
	}
	for _, n := range t.Topo.Nodes {
		if n.Host == t.Host.Name {
			d.NodeID = n.ID
		}
	}
	if d.NodeID == "" {
		return nil, fmt.Errorf("render memcached config for %s: not a node in the topology", t.Host.Name)
	}
	// Loopback too, unless the cluster address is itself a loopback one.
	if a, err := netip.ParseAddr(t.Host.Address); err == nil && !a.IsLoopback() {
		d.Listen += ",127.0.0.1"
		d.AlsoLoopback = true
	}
	return templates.Render(f.memcachedTemplate, d)
}

// ---- chrony.conf --------------------------------------------------------------

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
	d := tmplChrony{FQDN: t.Host.FQDN, Driftfile: f.chronyDrift}
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

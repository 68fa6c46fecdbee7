package playbooks

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
	"github.com/clusterctl/clusterctl/templates"
)

const reloadNginx = "reload nginx"

// nginxValidate checks a candidate nginx.conf before it replaces the live
// one. The candidate is a temp file in /etc/nginx, and every include in the
// template is an absolute path, so it resolves the same includes as the
// live file would (nginx resolves relative includes against its prefix,
// not against the file given with -c).
const nginxValidate = "nginx -t -q -c %s"

// nginxPlay installs the distribution's nginx and replaces its nginx.conf
// with the rendered one (upstream of every Tomcat), reloading only when the
// file changed; a config that fails nginx -t never goes live.
func (c *Cluster) nginxPlay() engine.Play {
	return engine.Play{
		Name:  "nginx",
		Hosts: c.withRole(inventory.RoleProxy),
		Steps: []engine.Step{
			engine.Package{Names: []string{"nginx"}},
			engine.Notify(nginxConfStep{c}, reloadNginx),
			engine.Service{Name: "nginx", Package: "nginx", State: engine.Started, Enabled: engine.Bool(true)},
		},
		Handlers: []engine.Step{engine.Restart{Service: "nginx", Reload: true}},
	}
}

type tmplNginx struct {
	Cluster, Family, Balance        string
	User, ModulesInclude, MimeTypes string
	LogDir                          string
	Listen                          int
	Servers                         []tmplUpstreamServer // every Tomcat: upstream tomcat-servers
	Routes                          []tmplRoute          // sticky only: one upstream per jvmRoute
	IPHash, RoundRobin              bool                 // how tomcat-servers spreads requests beyond round-robin's default
	ProxyTarget                     string               // what proxy_pass names: an upstream or $msm_upstream
	ProbePath                       string               // "/probe/"
	AppPaths                        []string             // the operator's apps' context paths
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
		User: f.NginxUser, ModulesInclude: f.NginxModules, MimeTypes: "/etc/nginx/mime.types", LogDir: "/var/log/nginx",
		Listen: t.Inv.Nginx.Listen, ProxyTarget: "tomcat-servers", ProbePath: topology.ProbeContext + "/",
		AppPaths: t.appPaths(),
	}
	for _, tc := range t.Topo.Tomcats {
		d.Servers = append(d.Servers, tmplUpstreamServer{Address: tc.Address, Port: tc.Port, FQDN: t.fqdn(tc.Host), Down: t.Drained[tc.Host]})
	}
	// nginx.balance is interpreted here, once: the template branches on
	// what it becomes (routes, ip_hash, plain round-robin), not on its name.
	switch t.Inv.Nginx.Balance {
	case inventory.BalanceRoundRobin:
		d.RoundRobin = true
	case inventory.BalanceIPHash:
		d.IPHash = true
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

func (t Target) appPaths() []string {
	var out []string
	for _, a := range t.Inv.Apps {
		out = append(out, a.Path)
	}
	return out
}

package playbooks

import (
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
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
		Hosts: withRole(inventory.RoleProxy),
		Steps: []engine.Step{
			engine.Package{Names: []string{"nginx"}},
			engine.Notify(nginxConfStep{c}, reloadNginx),
			engine.Service{Name: "nginx", Package: "nginx", State: engine.Started, Enabled: engine.Bool(true)},
		},
		Handlers: []engine.Step{engine.Restart{Service: "nginx", Reload: true}},
	}
}

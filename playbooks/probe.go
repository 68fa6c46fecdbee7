package playbooks

import (
	"io/fs"
	"path"

	"github.com/clusterctl/clusterctl/assets"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

// probePlay deploys the probe app (assets.Probe: index.jsp for verify, the
// seed's demo page demo.jsp) as an exploded directory under webapps. A
// changed file restarts a running Tomcat, rolled across the hosts like
// every restart: server.xml turns autoDeploy off (see there).
func (c *Cluster) probePlay() engine.Play {
	webapps := path.Join(c.Inv.CatalinaHome(), "webapps")
	owned := c.tomcatOwned()
	var steps []engine.Step
	err := fs.WalkDir(assets.Probe, "probe", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dest := path.Join(webapps, p)
		if d.IsDir() {
			steps = append(steps, engine.Directory{Path: dest, Meta: owned})
			return nil
		}
		b, err := assets.Probe.ReadFile(p)
		if err != nil {
			return err
		}
		steps = append(steps, engine.Notify(engine.File{Path: dest, Content: b, Meta: owned}, restartTomcat))
		return nil
	})
	if err != nil { // an embed FS cannot fail to walk; keep the host failing rather than panic
		steps = []engine.Step{failStep{"probe app", err}}
	}
	return engine.Play{Name: "probe", Hosts: c.withRole(inventory.RoleTomcat), Steps: steps,
		Handlers: []engine.Step{restartTomcatHandler()}}
}

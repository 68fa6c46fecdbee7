package playbooks

import (
	"io/fs"
	"path"

	"github.com/clusterctl/clusterctl/assets"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

// probePlay deploys the probe app (assets.Probe: index.jsp for verify, the
// seed's demo page demo.jsp) as an exploded directory under webapps, then
// starts Tomcat. A changed file restarts Tomcat, rolled across the hosts
// like every restart: server.xml turns autoDeploy off (see there).
func (c *Cluster) probePlay() engine.Play {
	webapps := path.Join(catalinaHomeOf(c.Inv), "webapps")
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
	// The probe play is the last of the Tomcat plays: Tomcat starts here,
	// once, with everything it runs already in place.
	steps = append(steps, tomcatServiceStep(), tomcatReadyStep())
	return engine.Play{Name: "probe", Hosts: withRole(inventory.RoleTomcat), Steps: steps,
		Handlers: []engine.Step{restartTomcatHandler()}}
}

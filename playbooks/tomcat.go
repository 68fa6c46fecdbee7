package playbooks

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/clusterctl/clusterctl/internal/artifacts"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/templates"
)

// restartTomcat is the handler of the tomcat, msm and probe plays. It always
// reloads systemd's units first: cheap, and right when the unit changed.
// It restarts only a running Tomcat: on a new host Tomcat is started once,
// by tomcatServiceStep in the tomcat-start play, with its jars, configs
// and apps all in place, instead of once per play.
const restartTomcat = "restart tomcat"

func restartTomcatHandler() engine.Step {
	return engine.Restart{Service: "tomcat", DaemonReload: true, IfRunning: true, Rolling: true, Label: restartTomcat}
}

// tomcatServiceStep enables and starts Tomcat; see restartTomcat.
func tomcatServiceStep() engine.Step {
	return engine.Service{Name: "tomcat", State: engine.Started, Enabled: engine.Bool(true), DaemonReload: true}
}

// tomcatStartedStep waits until the running Tomcat has finished starting
// (its webapps deployed), judged by the "Server startup in" line that
// Tomcat 8.5 and 9 log once, in the journal of the unit's current start
// only: a line from an earlier start must not count. Without it apply
// would end while Tomcat is still starting, and a verify right after
// would see 502s. It is the converge's rule, for a Tomcat no user reaches
// yet; a Tomcat going back into service must pass the stricter
// "tomcat ready" (TomcatReadyStep, drain.go), the rollout's only rule.
func tomcatStartedStep() engine.Step {
	return engine.WaitFor{Label: "tomcat started", Condition: tomcatStarted, Hint: "journalctl -u tomcat"}
}

const tomcatStarted = `inv=$(systemctl show -p InvocationID --value tomcat) && [ -n "$inv" ] && ` +
	`journalctl -q _SYSTEMD_INVOCATION_ID="$inv" -o cat | grep -q 'Server startup in'`

// tomcatStartPlay is the tomcat play's second half and runs after every
// play that puts something into Tomcat (msm, probe): a new Tomcat starts here,
// once, with everything it runs in place. It is a play of its own so the
// handlers of the plays before it find a new Tomcat not yet running and
// leave it be, instead of rolling a restart of a Tomcat this run started.
func (c *Cluster) tomcatStartPlay() engine.Play {
	var steps []engine.Step
	if len(c.Inv.Apps) > 0 {
		steps = append(steps, c.appsInPlaceStep())
	}
	return engine.Play{Name: "tomcat-start", Hosts: c.withRole(inventory.RoleTomcat),
		Steps: append(steps, tomcatServiceStep(), tomcatStartedStep())}
}

// tomcatPlay installs Tomcat as the seed does (tarball under /usr/local,
// symlink /usr/local/tomcat, user tomcat owning it), but run by a systemd
// unit rendered from the inventory, with server.xml's jvmRoute set to the
// host's short name.
func (c *Cluster) tomcatPlay() engine.Play {
	tc := c.Inv.Tomcat
	local := c.Inv.ArtifactPath(tc.Tarball)
	staged := stagedPath(local)
	home := c.Inv.CatalinaHome()
	owner := tc.User
	return engine.Play{
		Name:  "tomcat",
		Hosts: c.withRole(inventory.RoleTomcat),
		Steps: []engine.Step{
			engine.Directory{Path: stagingDir},
			unlessUnpacked{c: c, local: local, dest: tc.Prefix,
				step: verifiedUpload{c: c, sha512: tc.SHA512, up: engine.Upload{Local: local, Path: staged, Label: "upload Tomcat tarball"}}},
			c.fromTarball("unpack Tomcat", local, func(top string) engine.Step {
				return engine.Command{Label: "unpack Tomcat", Cmd: unpackCmd(staged, tc.Prefix, top), Creates: path.Join(tc.Prefix, top)}
			}),
			c.fromTarball("symlink "+home, local, func(top string) engine.Step {
				return engine.Symlink{Path: home, Target: path.Join(tc.Prefix, top)}
			}),
			engine.User{Name: owner, System: true, Home: home},
			c.fromTarball("tomcat owns its directory", local, func(top string) engine.Step {
				dir := engine.Quote(path.Join(tc.Prefix, top))
				o := engine.Quote(owner)
				return engine.Command{
					Label: "tomcat owns its directory",
					Cmd:   fmt.Sprintf("chown -R %s:%s %s", o, o, dir),
					// One find, stopping at the first file not owned: the
					// check stays one round trip whatever the tree's size.
					// A missing tree is not "owned" (find only errs).
					Unless: fmt.Sprintf(`test -d %s && test -z "$(find %s \( ! -user %s -o ! -group %s \) -print -quit)"`, dir, dir, o, o),
				}
			}),
			engine.Notify(c.pathFile(func(p Paths) string { return p.ServerXML },
				Target.ServerXML, fileOpts{meta: c.tomcatOwned()}), restartTomcat),
			c.pathFile(func(p Paths) string { return p.TomcatProfile }, Target.TomcatProfile, fileOpts{}),
			engine.Notify(c.pathFile(func(p Paths) string { return p.TomcatUnit },
				Target.TomcatService, fileOpts{}), restartTomcat),
		},
		Handlers: []engine.Step{restartTomcatHandler()},
	}
}

// verifiedUpload checks the local tarball against its published SHA-512
// before uploading it; a mismatch fails the host with the reason, and
// nothing is transferred.
type verifiedUpload struct {
	c      *Cluster
	sha512 string // inventory value; "" reads <tarball>.sha512
	up     engine.Upload
}

func (v verifiedUpload) Title() string { return v.up.Title() }

func (v verifiedUpload) Probes(h *engine.Host) []string { return v.up.Probes(h) }

func (v verifiedUpload) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	// Memoised: every host asks, the file is hashed once per run.
	if _, err := v.c.local.get("sha512:"+v.up.Local, func() (string, error) {
		want, err := artifacts.WantSHA512(v.sha512, v.up.Local)
		if err != nil {
			return "", err
		}
		return "", artifacts.VerifySHA512(v.up.Local, want)
	}); err != nil {
		return nil, fmt.Errorf("tomcat tarball not uploaded: %w", err)
	}
	return v.up.Check(ctx, h)
}

type tmplServer struct {
	TomcatVersion, FQDN, JvmRoute string
	ShutdownPort, Port            int
	MaxThreads, AccessLogMaxDays  int
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
		MaxThreads: t.Inv.Tomcat.MaxThreads, AccessLogMaxDays: t.Inv.Tomcat.AccessLogMaxDays,
	})
}

// ---- tomcat.service -----------------------------------------------------------

type tmplTomcatUnit struct {
	TomcatVersion, User, Group, JavaHome, CatalinaHome string
	JVMOptions                                         string // CATALINA_OPTS: tomcat.heap_mb, then tomcat.java_opts
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
		JVMOptions: strings.Join(t.Inv.Tomcat.JVMOptions(), " "),
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

package playbooks

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

// The operator's apps (inventory apps:) go live only through a Tomcat
// restart, never while a Tomcat serves users: the converge uploads each
// WAR to a staging directory outside webapps and writes which version is
// wanted; the restart (the rollout's, one drained host at a time, or the
// first start of a new Tomcat) stops Tomcat, puts the wanted WAR in place
// of the live one, removes the old unpacked tree and starts Tomcat again.
// server.xml's autoDeploy is off, so a running Tomcat never picks a WAR up
// by itself, and a Tomcat that crashes and is restarted by systemd comes
// back with the version it had. The version a WAR replaces stays staged
// for a rollback.

// AppsDir is where each app's staged WARs live: <AppsDir>/<name>/<sha256>.war.
var AppsDir = path.Join(engine.DefaultStateDir, "apps")

// AppPlace is where one app lives on a Tomcat host: a cluster fact that
// apply, the rollout, verify and teardown all read from here.
type AppPlace struct {
	App      inventory.App
	Dir      string // staging directory
	Staged   string // the wanted version's staged WAR
	Want     string // holds the wanted version's SHA-256
	Previous string // holds the SHA-256 of the version the last deploy replaced
	// Refused holds the SHA-256 of a version the live session check
	// refused on this host's Tomcat, until the next restart replaces it.
	Refused  string
	Live     string // webapps/<context>.war
	Unpacked string // webapps/<context>: Tomcat's unpacked tree
	// Work is the context's compiled JSPs (work/<engine>/<host>/<context>,
	// server.xml's Catalina and localhost). Jasper recompiles a JSP only
	// when its source is newer than the class: a WAR built before the
	// last version's JSPs were compiled would be served the old pages.
	Work string
}

// Apps is every app's place, in inventory order.
func (c *Cluster) Apps() []AppPlace {
	webapps := path.Join(c.Inv.CatalinaHome(), "webapps")
	var out []AppPlace
	for _, a := range c.Inv.Apps {
		dir := path.Join(AppsDir, a.Name)
		out = append(out, AppPlace{
			App: a, Dir: dir, Staged: path.Join(dir, a.SHA256+".war"),
			Want: path.Join(dir, "want"), Previous: path.Join(dir, "previous"), Refused: path.Join(dir, "refused"),
			Live: path.Join(webapps, a.ContextName()+".war"), Unpacked: path.Join(webapps, a.ContextName()),
			Work: path.Join(c.Inv.CatalinaHome(), "work", "Catalina", "localhost", a.ContextName()),
		})
	}
	return out
}

// appsPlay stages every app on every Tomcat host. A new wanted version
// notifies the rolling Tomcat restart that puts it live; the journal
// records the live WAR and its unpacked tree, so teardown removes them.
func (c *Cluster) appsPlay() engine.Play {
	var steps []engine.Step
	if len(c.Inv.Apps) > 0 {
		steps = append(steps, engine.Directory{Path: AppsDir})
	}
	for _, p := range c.Apps() {
		if p.App.SHA256 == "" {
			steps = append(steps, failStep{"app " + p.App.Name, fmt.Errorf("%s: no SHA-256 known (the inventory's local check did not run)", p.App.WAR)})
			continue
		}
		steps = append(steps,
			engine.Directory{Path: p.Dir},
			engine.Upload{Local: c.Inv.ArtifactPath(p.App.WAR), Path: p.Staged, Label: "stage " + p.App.Name + " " + p.App.WAR},
			engine.Notify(appWant{place: p}, restartTomcat),
		)
	}
	return engine.Play{Name: "apps", Hosts: c.withRole(inventory.RoleTomcat), Steps: steps,
		Handlers: []engine.Step{restartTomcatHandler()}}
}

// appWant writes which version of an app is wanted.
type appWant struct{ place AppPlace }

func (w appWant) file() engine.File {
	return engine.File{Path: w.place.Want, Content: []byte(w.place.App.SHA256 + "\n")}
}

func (w appWant) Title() string { return "want " + w.place.App.Name + " " + w.place.App.WAR }

func (w appWant) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	ch, err := w.file().Check(ctx, h)
	if err != nil || ch == nil {
		return ch, err
	}
	// Write-ahead: the live WAR, its tree and its compiled JSPs appear at
	// the next restart; those absent now are apply's to remove. One look
	// for the three.
	paths := []string{w.place.Live, w.place.Unpacked, w.place.Work}
	var look strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&look, "test -e %s || echo %s; ", engine.Quote(p), engine.Quote(p))
	}
	res, err := h.Conn.Run(ctx, look.String())
	if err != nil {
		return nil, err
	}
	absent := strings.Fields(res.Stdout)
	for _, p := range absent {
		ch.Records = append(ch.Records, engine.Record{Kind: engine.RecordCommandCreated, Path: p})
	}
	// A live WAR that is there is replaced at the restart: recorded with a
	// backup, so teardown puts back a WAR deployed by hand before the
	// first apply (the journal's first record of a path decides, and the
	// first backup is kept: a WAR clusterctl deployed is still removed).
	if !slices.Contains(absent, w.place.Live) {
		ch.Records = append(ch.Records, engine.Record{Kind: engine.RecordFileReplaced, Path: w.place.Live, SHA256: w.place.App.SHA256})
	}
	ch.Summary = fmt.Sprintf("%s %.12s: goes live at the next restart of Tomcat (%s)", w.place.App.WAR, w.place.App.SHA256, ch.Summary)
	return ch, nil
}

// appsLiveScript puts every app's wanted version live, for a stopped
// Tomcat; nothing for an app already live in that version. The replaced
// version's SHA-256 is kept in Previous (its staged WAR stays; a WAR that
// was deployed by hand before clusterctl is staged first, so a rollback
// can go back to it), older staged versions go.
func (c *Cluster) appsLiveScript() string {
	places := c.Apps()
	if len(places) == 0 {
		return ""
	}
	owner := engine.Quote(c.Inv.Tomcat.User + ":" + c.Inv.Tomcat.User)
	q := engine.Quote
	var b strings.Builder
	for _, p := range places {
		// A version the live session check refused (Refused) was live for
		// the check only: replacing it restores the Previous it replaced,
		// so a rollback never goes to it.
		fmt.Fprintf(&b, `w=$(cat %[1]s 2>/dev/null) && { cur=$(sha256sum %[2]s 2>/dev/null | cut -c1-64)
if [ "$cur" != "$w" ]; then
  { [ -z "$cur" ] || [ -e %[3]s/"$cur".war ] || cp -p %[2]s %[3]s/"$cur".war; } &&
  cp %[3]s/"$w".war %[2]s.clusterctl-new && chown %[4]s %[2]s.clusterctl-new && mv -f %[2]s.clusterctl-new %[2]s && rm -rf %[5]s %[6]s || exit 1
  if [ -n "$cur" ] && [ "$cur" = "$(cat %[7]s 2>/dev/null)" ]; then mv -f %[8]s.before %[8]s 2>/dev/null
  elif [ -n "$cur" ]; then { ! [ -e %[8]s ] || cp -f %[8]s %[8]s.before; } && echo "$cur" > %[8]s; fi
  rm -f %[7]s
fi
prev=$(cat %[8]s 2>/dev/null); for f in %[3]s/*.war; do case "$f" in */"$w".war|*/"$prev".war) ;; *) rm -f "$f";; esac; done; }
`, q(p.Want), q(p.Live), q(p.Dir), owner, q(p.Unpacked), q(p.Work), q(p.Refused), q(p.Previous))
	}
	b.WriteString("true")
	return b.String()
}

// appsLiveCond holds when every app is live in its wanted version.
func (c *Cluster) appsLiveCond() string {
	var conds []string
	for _, p := range c.Apps() {
		conds = append(conds, fmt.Sprintf(`[ "$(sha256sum %s 2>/dev/null | cut -c1-64)" = "$(cat %s 2>/dev/null)" ]`, engine.Quote(p.Live), engine.Quote(p.Want)))
	}
	return strings.Join(conds, " && ")
}

// appsInPlaceStep puts the apps live on a Tomcat that is not running (a
// new host, before its first start); a running one gets them through its
// rolling restart.
func (c *Cluster) appsInPlaceStep() engine.Step {
	return engine.Command{Label: "apps in place", Cmd: c.appsLiveScript(),
		Unless: "systemctl is-active --quiet tomcat || { " + c.appsLiveCond() + "; }"}
}

// appsHealthCond holds when every app answers its health path with a 2xx
// on the Tomcat at addr:port itself (bash's /dev/tcp: no curl needed).
func appsHealthCond(apps []inventory.App, addr string, port int) string {
	var conds []string
	for _, a := range apps {
		req := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%d && printf 'GET %s HTTP/1.0\r\nHost: clusterctl-health\r\n\r\n' >&3 && head -n 1 <&3`, addr, port, a.HealthPath())
		conds = append(conds, "timeout 5 bash -c "+engine.Quote(req)+` | grep -q '^HTTP/1\.[01] 2'`)
	}
	return strings.Join(conds, " && ")
}

// SessionRequest is a command for a Tomcat's own host: it asks the Tomcat
// at addr:port for urlPath, with the session cookie when session is not
// empty, and prints the answer's status line and the JSESSIONID it sets.
func SessionRequest(addr string, port int, urlPath, session string) string {
	cookie := ""
	if session != "" {
		cookie = `Cookie: JSESSIONID=` + session + `\r\n`
	}
	req := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%d && printf 'GET %s HTTP/1.0\r\nHost: clusterctl-canary\r\n%s\r\n' >&3 && sed -n -e '1p' -e '/^[Ss]et-[Cc]ookie: *JSESSIONID=/p' -e '/^\r*$/q' <&3`,
		addr, port, urlPath, cookie)
	return "timeout 10 bash -c " + engine.Quote(req)
}

// AppsNotice says, when there are apps, why their versions share sessions:
// MSM keys a session by its webapp version too (docs/msm.md), and apps are
// deployed as <context>.war, with no "##version" for that key to carry.
func (c *Cluster) AppsNotice() string {
	if len(c.Inv.Apps) == 0 {
		return ""
	}
	prefix := c.Inv.MSM.StorageKeyPrefix
	if prefix == "" {
		prefix = "MSM's default, webappVersion"
	}
	return fmt.Sprintf("apps are deployed as <context>.war, with no ##version in the name: the storage key prefix (%s) is the same for every version of an app, so a new version finds the sessions the old one wrote", prefix)
}

// RollbackPlay wants, on every Tomcat host, the version of app that its
// last deploy replaced, and notifies the rolling restart that puts it
// live: the same path as a deploy. The inventory still names the newer
// WAR, so the next apply deploys it again until the inventory changes.
func (c *Cluster) RollbackPlay(app string) (engine.Play, error) {
	for _, p := range c.Apps() {
		if p.App.Name == app {
			return engine.Play{Name: "rollback", Hosts: c.withRole(inventory.RoleTomcat),
				Steps:    []engine.Step{engine.Notify(appRollback{place: p}, restartTomcat)},
				Handlers: []engine.Step{restartTomcatHandler()}}, nil
		}
	}
	var names []string
	for _, a := range c.Inv.Apps {
		names = append(names, a.Name)
	}
	return engine.Play{}, fmt.Errorf("no app %q in the inventory (apps: %s)", app, strings.Join(names, ", "))
}

// appRollback points want at previous.
type appRollback struct{ place AppPlace }

func (r appRollback) Title() string { return "want the previous version of " + r.place.App.Name }

func (r appRollback) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	p := r.place
	res, err := h.Conn.Run(ctx, fmt.Sprintf(`cat %s 2>/dev/null; echo; cat %s 2>/dev/null; echo; sha256sum %s 2>/dev/null | cut -c1-64`,
		engine.Quote(p.Previous), engine.Quote(p.Want), engine.Quote(p.Live)))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(res.Stdout, "\n")
	for len(lines) < 3 {
		lines = append(lines, "")
	}
	prev, want, live := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
	switch {
	case prev == "":
		return nil, fmt.Errorf("%s: no previous version of %s on this host (%s is empty): nothing to roll back to", h.Name(), p.App.Name, p.Previous)
	case want == prev && live != prev:
		// A rollback an earlier run began: its restart is still pending.
		return nil, nil
	case want == prev:
		return nil, fmt.Errorf("%s: %s is already at the version before %.12s; roll forward with apply", h.Name(), p.App.Name, live)
	}
	staged := path.Join(p.Dir, prev+".war")
	if res, err := h.Conn.Run(ctx, "test -f "+engine.Quote(staged)); err != nil || !res.OK() {
		return nil, fmt.Errorf("%s: the previous version %.12s of %s is no longer staged (%s)", h.Name(), prev, p.App.Name, staged)
	}
	f := engine.File{Path: p.Want, Content: []byte(prev + "\n")}
	ch, err := f.Check(ctx, h)
	if err != nil || ch == nil {
		return ch, err
	}
	ch.Summary = fmt.Sprintf("%s back to %.12s (from %.12s): goes live at the next restart of Tomcat", p.App.Name, prev, live)
	return ch, nil
}

package playbooks

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/clusterctl/clusterctl/internal/artifacts"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/platform"
)

// javaPlay installs the JDK every Tomcat runs on: the seed's way (a JDK
// tarball unpacked under /usr/local, the stable symlink java.home pointing
// at the versioned directory, a profile script), or the distribution's
// package. Tomcat itself does not depend on PATH: its unit sets JAVA_HOME.
func (c *Cluster) javaPlay() engine.Play {
	// A repointed java.home is a new JVM for Tomcat only once it restarts
	// (rolled, like every Tomcat restart); the unit itself does not change.
	p := engine.Play{Name: "java", Hosts: c.withRole(inventory.RoleTomcat), Handlers: []engine.Step{restartTomcatHandler()}}
	if c.Inv.Java.Install == inventory.JavaPackage {
		p.Steps = c.javaPackageSteps()
	} else {
		p.Steps = c.javaTarballSteps()
	}
	return p
}

func (c *Cluster) javaTarballSteps() []engine.Step {
	local := c.Inv.ArtifactPath(c.Inv.Java.Tarball)
	staged := stagedPath(local)
	home := c.Inv.Java.Home
	dest := path.Dir(home) // /usr/local for /usr/local/jdk
	return []engine.Step{
		engine.Directory{Path: stagingDir},
		unlessUnpacked{c: c, local: local, dest: dest, step: engine.Upload{Local: local, Path: staged, Label: "upload JDK tarball"}},
		c.fromTarball("unpack JDK", local, func(top string) engine.Step {
			return engine.Command{Label: "unpack JDK", Cmd: unpackCmd(staged, dest, top), Creates: path.Join(dest, top)}
		}),
		engine.Notify(c.fromTarball("symlink "+home, local, func(top string) engine.Step {
			return engine.Symlink{Path: home, Target: path.Join(dest, top)}
		}), restartTomcat),
		c.pathFile(func(p Paths) string { return p.JDKProfile }, Target.JDKProfile, fileOpts{}),
	}
}

// fromTarball builds a step that needs the tarball's top directory, read
// locally (never guessed from the file name: jdk-17-linux-x64.tar.gz
// unpacks to jdk-17.0.15).
func (c *Cluster) fromTarball(title, local string, build func(top string) engine.Step) engine.Step {
	return perHost(title, func(*engine.Host) engine.Step {
		top, err := c.local.get("top:"+local, func() (string, error) { return artifacts.TopDir(local) })
		if err != nil {
			return failStep{title, err}
		}
		return build(top)
	})
}

// javaPackageFor is the Java package to install on h: the inventory's,
// except that the inventory's default (Debian's default JDK) means the
// family's own default (the family table).
func (c *Cluster) javaPackageFor(h *engine.Host) string {
	pkg := c.Inv.Java.Package
	deb := platform.Families[engine.FamilyDebian].JavaPackage
	if f, ok := platform.Families[h.Facts.Family]; ok && pkg == deb {
		return f.JavaPackage
	}
	return pkg
}

// javaPackageSteps installs the distribution's JDK and points java.home
// (the JAVA_HOME of the Tomcat unit and the profile script) at the home of
// the Java that package installed, read from the package's own files: a
// JRE package has no /usr/lib/jvm/default-java, and a guessed path is a
// Tomcat that never starts.
func (c *Cluster) javaPackageSteps() []engine.Step {
	return []engine.Step{
		perHost("packages java", func(h *engine.Host) engine.Step {
			return engine.Package{Names: []string{c.javaPackageFor(h)}, Label: "packages java"}
		}),
		engine.Notify(javaHomeLink{home: c.Inv.Java.Home, pkg: c.javaPackageFor}, restartTomcat),
	}
}

// javaHomeLink links java.home to the Java home of the installed package.
type javaHomeLink struct {
	home string
	pkg  func(*engine.Host) string
}

func (j javaHomeLink) Title() string { return "symlink " + j.home }

func (j javaHomeLink) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	pkg := j.pkg(h)
	cmd, err := engine.PackageFilesCmd(h.Facts, pkg, "/bin/java$")
	if err != nil {
		return nil, err
	}
	res, err := h.Conn.Run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("%s: files of %s: %w", j.Title(), pkg, err)
	}
	javaHome := javaHomeOf(res.Stdout)
	if javaHome == "" {
		if engine.IsDryRun(ctx) {
			return &engine.Change{Summary: fmt.Sprintf("link %s -> the Java home of %s (read from its files once it is installed)", j.home, pkg)}, nil
		}
		return nil, fmt.Errorf("java.package %s installed no Java runtime (no bin/java among its files or its dependencies'): name a JDK or JRE package, such as openjdk-17-jre-headless", pkg)
	}
	// The home itself or a link to it, whichever is the most stable name:
	// RHEL's homes carry the full version and change on every update, its
	// alternatives links (jre-17) do not.
	q := engine.Quote(javaHome)
	res, err = h.Conn.Run(ctx, `r=$(readlink -f `+q+`); for l in /usr/lib/jvm/*; do [ -L "$l" ] && [ "$(readlink -f "$l")" = "$r" ] && echo "$l"; done; `+
		`echo "home $(readlink -f `+engine.Quote(j.home)+` 2>/dev/null)"; echo "want $r"`)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.Title(), err)
	}
	target, cur, want := javaHome, "", ""
	for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		switch {
		case strings.HasPrefix(l, "home "):
			cur = strings.TrimPrefix(l, "home ")
		case strings.HasPrefix(l, "want "):
			want = strings.TrimPrefix(l, "want ")
		case strings.ContainsAny(path.Base(l), "0123456789") && len(l) < len(target):
			target = l
		}
	}
	if cur != "" && cur == want {
		return nil, nil // java.home already leads to that Java (a link, or the package's own path)
	}
	return engine.Symlink{Path: j.home, Target: target, Label: j.Title()}.Check(ctx, h)
}

// javaHomeOf picks the Java home from bin/java paths: the shortest, so a
// JDK 8's root wins over its jre/ subdirectory.
func javaHomeOf(bins string) string {
	best := ""
	for _, b := range strings.Fields(bins) {
		home := path.Dir(path.Dir(b))
		if best == "" || len(home) < len(best) {
			best = home
		}
	}
	return best
}

// StaleJavaStep removes the Java packages an earlier apply installed for
// java.install: package that the inventory no longer names (switched to
// the tarball, or to another package): switching back leaves no JDK
// behind. Run after the rollout, once no Tomcat runs on them any more.
// Only the package apply itself asked for goes; what it pulled in stays
// until teardown, which knows how to tell it from what came later.
func (c *Cluster) StaleJavaStep() engine.Step {
	return engine.When(c.withRole(inventory.RoleTomcat), "not a Tomcat host", staleJava{c: c})
}

type staleJava struct{ c *Cluster }

func (s staleJava) Title() string { return "remove Java packages no longer used" }

func (s staleJava) Probes(*engine.Host) []string { return []string{engine.JournalProbe("")} }

func (s staleJava) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	recs, _, err := engine.ReadJournal(ctx, h.Conn, engine.StateDir(ctx))
	if err != nil {
		return nil, err
	}
	want := ""
	if s.c.Inv.Java.Install == inventory.JavaPackage {
		want = s.c.javaPackageFor(h)
	}
	var stale []string
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Kind == engine.RecordPackageInstalled && r.Via == "" && r.Step == "packages java" && r.Name != want && !seen[r.Name] {
			seen[r.Name] = true
			stale = append(stale, r.Name)
		}
	}
	if len(stale) == 0 {
		return nil, nil
	}
	return engine.Package{Names: stale, State: engine.Absent, Label: s.Title()}.Check(ctx, h)
}

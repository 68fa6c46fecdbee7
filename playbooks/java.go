package playbooks

import (
	"path"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

// javaPlay installs the JDK every Tomcat runs on: the seed's way (a JDK
// tarball unpacked under /usr/local, the stable symlink java.home pointing
// at the versioned directory, a profile script), or the distribution's
// package. Tomcat itself does not depend on PATH: its unit sets JAVA_HOME.
func (c *Cluster) javaPlay() engine.Play {
	p := engine.Play{Name: "java", Hosts: withRole(inventory.RoleTomcat)}
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
		c.fromTarball("symlink "+home, local, func(top string) engine.Step {
			return engine.Symlink{Path: home, Target: path.Join(dest, top)}
		}),
		c.renderedFile("file /etc/profile.d/jdk.sh", func(p Paths) string { return p.JDKProfile }, Target.JDKProfile, fileOpts{}),
	}
}

// fromTarball builds a step that needs the tarball's top directory, read
// locally (never guessed from the file name: jdk-17-linux-x64.tar.gz
// unpacks to jdk-17.0.15).
func (c *Cluster) fromTarball(title, local string, build func(top string) engine.Step) engine.Step {
	return perHost(title, func(*engine.Host) engine.Step {
		top, err := c.local.get("top:"+local, func() (string, error) { return tarTopDir(local) })
		if err != nil {
			return failStep{title, err}
		}
		return build(top)
	})
}

// RHEL's names for what the inventory defaults to (Debian's): the package
// of the distribution's default JDK and the directory its alternatives keep
// pointing at that JDK.
const (
	rhelJavaPackage = "java-17-openjdk-headless"
	rhelJavaHome    = "/usr/lib/jvm/jre-17-openjdk"
	debianJavaPkg   = "default-jdk-headless"
	debianJavaHome  = "/usr/lib/jvm/default-java"
)

// javaPackageSteps installs the distribution's JDK. The inventory's
// defaults are Debian's names; on RHEL they are translated, and java.home
// (which the Tomcat unit uses as JAVA_HOME) is made a link to RHEL's
// equivalent directory so one inventory serves both families.
func (c *Cluster) javaPackageSteps() []engine.Step {
	pkg, home := c.Inv.Java.Package, c.Inv.Java.Home
	isRHEL := func(h *engine.Host) bool { return h.Facts.Family == engine.FamilyRHEL }
	return []engine.Step{
		perHost("packages java", func(h *engine.Host) engine.Step {
			name := pkg
			if isRHEL(h) && name == debianJavaPkg {
				name = rhelJavaPackage
			}
			return engine.Package{Names: []string{name}, Label: "packages java"}
		}),
		engine.When(func(h *engine.Host) bool { return isRHEL(h) && home == debianJavaHome },
			"java.home is the distribution's own", engine.Symlink{Path: home, Target: rhelJavaHome}),
	}
}

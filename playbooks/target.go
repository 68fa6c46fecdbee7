package playbooks

import (
	"context"
	"fmt"
	"path"

	"github.com/clusterctl/clusterctl/internal/artifacts"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// stagingDir is where tarballs are uploaded before they are unpacked: kept
// on the host so a re-run compares checksums instead of transferring again.
const stagingDir = "/usr/local/src/clusterctl"

// target is the render.go Target for an engine host: its OS family is only
// known once the run has gathered facts, so steps build it at Check time.
func (c *Cluster) target(h *engine.Host) Target {
	return Target{Inv: c.Inv, Topo: c.Topo, Host: c.host(h), Family: h.Facts.Family}
}

// fileOpts are the engine.File fields a rendered file may set.
type fileOpts struct {
	meta     remote.FileMeta
	validate string
}

// renderedFile writes what render produces for the host to the path chosen
// for its family. The title is fixed (events and Notify refer to it before
// any host is known), so it names the file by role where the path differs
// between families.
func (c *Cluster) renderedFile(title string, where func(Paths) string, render func(Target) ([]byte, error), o fileOpts) engine.Step {
	return perHost(title, func(h *engine.Host) engine.Step {
		t := c.target(h)
		p, err := t.Paths()
		if err != nil {
			return failStep{title, err}
		}
		content, err := render(t)
		if err != nil {
			return failStep{title, err}
		}
		return engine.File{Path: where(p), Content: content, Meta: o.meta, Validate: o.validate, Label: title}
	})
}

// pathFile is renderedFile for a file whose path every family shares:
// its title names that path, from the one paths table.
func (c *Cluster) pathFile(where func(Paths) string, render func(Target) ([]byte, error), o fileOpts) engine.Step {
	return c.renderedFile("file "+where(commonPaths(c.Inv)), where, render, o)
}

// withPaths builds a step from the host's family paths.
func (c *Cluster) withPaths(title string, build func(Target, Paths) engine.Step) engine.Step {
	return perHost(title, func(h *engine.Host) engine.Step {
		t := c.target(h)
		p, err := t.Paths()
		if err != nil {
			return failStep{title, err}
		}
		return build(t, p)
	})
}

// tomcatOwned is the ownership of everything clusterctl writes under the
// Tomcat directory: the seed chowns the whole tree to tomcat, and the
// guarded chown of the tomcat play would otherwise find root-owned files
// (and report a change) on every re-run.
func (c *Cluster) tomcatOwned() remote.FileMeta {
	return remote.FileMeta{Owner: c.Inv.Tomcat.User, Group: c.Inv.Tomcat.User}
}

// failStep fails a host with err at Check: for per-host steps that cannot
// be built (an unsupported family, an artifact missing or corrupt locally).
type failStep struct {
	title string
	err   error
}

func (f failStep) Title() string { return f.title }
func (f failStep) Check(context.Context, *engine.Host) (*engine.Change, error) {
	return nil, f.err
}

// stagedPath is where a local artifact is uploaded on the host.
func stagedPath(local string) string { return path.Join(stagingDir, path.Base(local)) }

// unpackCmd unpacks tarball (already on the host) so that its single top
// directory becomes <dest>/<top>. It extracts into a scratch directory and
// renames the result into place, so an interrupted run never leaves a
// half-unpacked <dest>/<top> that the Creates guard would take for done.
func unpackCmd(tarball, dest, top string) string {
	scratch := path.Join(dest, ".clusterctl-unpack-"+top)
	q := engine.Quote
	return fmt.Sprintf("rm -rf %[1]s && mkdir -p %[1]s && tar -xzf %[2]s -C %[1]s && mv %[3]s %[4]s && rmdir %[1]s",
		q(scratch), q(tarball), q(path.Join(scratch, top)), q(path.Join(dest, top)))
}

// unlessUnpacked skips step (an upload of a tarball) on hosts where the
// tarball's versioned directory already exists: the staged tarball is only
// read by the unpack step, and checking it costs a sha256sum of up to
// 200 MB on the host plus one locally per host — most of a no-op apply's
// time before this guard (see BenchmarkApply).
type unlessUnpacked struct {
	c     *Cluster
	local string // the tarball, for its top directory
	dest  string // where it is unpacked
	step  engine.Step
}

func (u unlessUnpacked) Title() string { return u.step.Title() }

func unpackedCmd(dir string) string { return "test -d " + engine.Quote(dir) }

// Probes: the test alone; on a converged host the step is then skipped.
func (u unlessUnpacked) Probes(*engine.Host) []string {
	top, err := u.c.local.get("top:"+u.local, func() (string, error) { return artifacts.TopDir(u.local) })
	if err != nil {
		return nil
	}
	return []string{unpackedCmd(path.Join(u.dest, top))}
}

func (u unlessUnpacked) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	top, err := u.c.local.get("top:"+u.local, func() (string, error) { return artifacts.TopDir(u.local) })
	if err != nil {
		return nil, err
	}
	dir := path.Join(u.dest, top)
	res, err := h.Conn.Run(ctx, unpackedCmd(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: check %s: %w", u.Title(), dir, err)
	}
	if res.OK() {
		return nil, engine.Skip(dir + " is already unpacked")
	}
	return u.step.Check(ctx, h)
}

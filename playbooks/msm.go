package playbooks

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/clusterctl/clusterctl/internal/artifacts"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/templates"
)

// spymemcachedVersion is the memcached client MSM 2.3.x is built against.
const spymemcachedVersion = "2.12.3"

// kryoCoords are the serializer jars msm-kryo-serializer 2.3.x needs at run
// time. kryo 4.0.0 and kryo-serializers 0.41 are what msm-kryo-serializer's
// POM declares (MSM's repository, 2.3.2 line). The other four are kryo
// 4.0.0's transitive runtime dependencies as a Gradle resolution of exactly
// kryo 4.0.0 + kryo-serializers 0.41 selected them (reflectasm 1.11.3 brings
// asm 5.0.4). Maven Central itself is unreachable from where this was
// written, so they were read from that resolution, not from Central's POMs.
var kryoCoords = []artifacts.Coord{
	{Group: "com.esotericsoftware", Artifact: "kryo", Version: "4.0.0"},
	{Group: "de.javakaffee", Artifact: "kryo-serializers", Version: "0.41"},
	{Group: "com.esotericsoftware", Artifact: "reflectasm", Version: "1.11.3"},
	{Group: "com.esotericsoftware", Artifact: "minlog", Version: "1.3.0"},
	{Group: "org.ow2.asm", Artifact: "asm", Version: "5.0.4"},
	{Group: "org.objenesis", Artifact: "objenesis", Version: "2.2"},
}

// MSMCoords lists the jars Tomcat's lib needs for MSM at version v on a
// Tomcat whose module is tcModule ("tc8"/"tc9") with serializer ser.
func MSMCoords(v, tcModule, ser string) []artifacts.Coord {
	cs := []artifacts.Coord{
		{Group: "de.javakaffee.msm", Artifact: "memcached-session-manager", Version: v},
		{Group: "de.javakaffee.msm", Artifact: "memcached-session-manager-" + tcModule, Version: v},
		{Group: "net.spy", Artifact: "spymemcached", Version: spymemcachedVersion},
	}
	if ser == inventory.SerializerKryo {
		cs = append(cs, artifacts.Coord{Group: "de.javakaffee.msm", Artifact: "msm-kryo-serializer", Version: v})
		cs = append(cs, kryoCoords...)
	}
	return cs
}

// staleJarGlobs match every jar a clusterctl-managed MSM install may have
// put into lib; the ones not wanted now (another MSM version, another
// Tomcat module, kryo after switching back to Java serialization) go.
var staleJarGlobs = []string{
	"memcached-session-manager-*.jar", "msm-kryo-serializer-*.jar", "spymemcached-*.jar",
	"kryo-*.jar", "reflectasm-*.jar", "minlog-*.jar", "asm-[0-9]*.jar", "objenesis-*.jar",
}

// msmJars resolves the jars once per run, whichever host asks first: a
// download (if any) happens once, never once per host.
type msmJars struct {
	once  sync.Once
	paths []string
	err   error
}

func (c *Cluster) msmJarPaths(ctx context.Context) ([]string, error) {
	c.msm.once.Do(func() {
		cache, err := artifacts.DefaultMavenCache()
		if err != nil {
			c.msm.err = err
			return
		}
		r := artifacts.Resolver{ArtifactsDir: c.Inv.Artifacts.Dir, CacheDir: cache, Repo: c.Inv.MSM.MavenRepo}
		// Every jar is tried, so one message names all that are missing.
		var missing []string
		var firstErr error
		for _, co := range MSMCoords(c.Inv.MSM.Version, c.Inv.Tomcat.MSMModule(), c.Inv.MSM.Serializer) {
			p, err := r.Resolve(ctx, co)
			if err != nil {
				missing = append(missing, co.File())
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			c.msm.paths = append(c.msm.paths, p)
		}
		if len(missing) > 0 {
			c.msm.paths = nil
			c.msm.err = fmt.Errorf("MSM jars missing (msm.version %s, msm.serializer %s): %s; put them into artifacts.dir %s, or make msm.maven_repo %s reachable (first failure: %v)",
				c.Inv.MSM.Version, c.Inv.MSM.Serializer, strings.Join(missing, ", "), c.Inv.Artifacts.Dir, c.Inv.MSM.MavenRepo, firstErr)
		}
	})
	return c.msm.paths, c.msm.err
}

// CheckArtifacts resolves, before any host is contacted, the local files
// apply will upload (the MSM jars, downloading them once if need be), so a
// missing jar is one error naming each, not a failure half-way through
// every Tomcat host's plays.
func (c *Cluster) CheckArtifacts(ctx context.Context) error {
	if len(c.allWithRole(inventory.RoleTomcat)) == 0 {
		return nil
	}
	_, err := c.msmJarPaths(ctx)
	return err
}

// msmPlay puts MSM into Tomcat: the jars into lib (stale ones out) and
// context.xml with the sticky Manager for this host's place in the ring.
// Every change restarts Tomcat once, at the end of the play.
func (c *Cluster) msmPlay() engine.Play {
	lib := path.Join(c.Inv.CatalinaHome(), "lib")
	coords := MSMCoords(c.Inv.MSM.Version, c.Inv.Tomcat.MSMModule(), c.Inv.MSM.Serializer)
	var steps []engine.Step
	var names []string
	for i, co := range coords {
		names = append(names, co.File())
		title := "upload " + path.Join(lib, co.File())
		dest := path.Join(lib, co.File())
		steps = append(steps, engine.Notify(hostStep{title: title, build: func(ctx context.Context, h *engine.Host) engine.Step {
			jars, err := c.msmJarPaths(ctx)
			if err != nil {
				return failStep{title, err}
			}
			return engine.Upload{Local: jars[i], Path: dest, Meta: c.tomcatOwned(), Label: title}
		}, probes: engine.Upload{Path: dest}.Probes}, restartTomcat))
	}
	steps = append(steps,
		engine.Notify(staleJarsStep(lib, names), restartTomcat),
		engine.Notify(c.pathFile(func(p Paths) string { return p.ContextXML },
			Target.ContextXML, fileOpts{meta: c.tomcatOwned()}), restartTomcat),
	)
	return engine.Play{
		Name:     "msm",
		Hosts:    c.withRole(inventory.RoleTomcat),
		Steps:    steps,
		Handlers: []engine.Step{restartTomcatHandler()},
	}
}

// staleJarsStep removes MSM-related jars in lib that are not in keep.
func staleJarsStep(lib string, keep []string) engine.Step {
	keep = append([]string(nil), keep...)
	sort.Strings(keep)
	list := fmt.Sprintf(`cd %s && for f in %s; do [ -e "$f" ] || continue; case "$f" in %s) ;; *) echo "$f";; esac; done`,
		engine.Quote(lib), strings.Join(staleJarGlobs, " "), strings.Join(quoteEach(keep), "|"))
	return engine.Command{
		Label:  "remove stale MSM jars",
		Cmd:    "stale=$(" + list + ") && cd " + engine.Quote(lib) + ` && for f in $stale; do rm -f -- "$f"; done`,
		Unless: `test -z "$(` + list + `)"`,
	}
}

func quoteEach(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = engine.Quote(w)
	}
	return out
}

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

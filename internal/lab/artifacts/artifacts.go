// Package artifacts prepares, offline, the files a user would otherwise
// download for the lab: a Tomcat 9 tarball laid out like Apache's, a JDK
// tarball, and the MSM jars (or the MSM test double when the real jars are
// absent).
//
// Everything is built from Debian packages (see AptPackages) into a cache
// keyed by the packages' versions (and the stand-in's source hash), then
// copied into the artifacts directory; a second Prepare only compares sizes
// and times.
package artifacts

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/clusterctl/clusterctl/internal/artifacts"
)

// Manifest names what Prepare left in the artifacts directory; file names
// are relative to that directory.
type Manifest struct {
	Dir           string            // absolute artifacts directory
	TomcatVersion string            // e.g. 9.0.70
	TomcatTarball string            // apache-tomcat-9.0.70.tar.gz (+ .sha512 beside it)
	JDKTarball    string            // jdk-17-linux-x64.tar.gz
	MSMVersion    string            // 2.3.2
	MSMJars       []string          // the jars that go into $CATALINA_BASE/lib
	MSMStandIn    bool              // true when MSMJars are the test double, not real MSM
	MSMSHA256     map[string]string // jar name -> sha256, the record of which MSM ran

	TomcatSHA512 string // apache-tomcat-9.0.70.tar.gz.sha512 ("<hex> *<name>")
	TomcatTopDir string // apache-tomcat-9.0.70, the tarball's single top directory
	JDKVersion   string // e.g. 17.0.15
	JDKTopDir    string // jdk-17.0.15, the JDK tarball's single top directory
}

// JDKTarballName is the JDK tarball's file name.
const JDKTarballName = "jdk-17-linux-x64.tar.gz"

// The builders' own source is part of each cache key: a cache is reused
// only by the code that built it, so a change to how an artifact is made
// (or a bug put into it) rebuilds instead of passing on a warm cache.
//
//go:embed artifacts.go archive.go cache.go debian.go tomcat.go jdk.go msm.go msm_install.go
var builderCode embed.FS

var (
	tomcatRecipe = "tomcat-" + codeHash("artifacts.go", "archive.go", "cache.go", "debian.go", "tomcat.go")
	jdkRecipe    = "jdk-" + codeHash("artifacts.go", "archive.go", "cache.go", "debian.go", "jdk.go")
	msmRecipe    = "msm-" + codeHash("artifacts.go", "archive.go", "cache.go", "msm.go", "msm_install.go")
)

func codeHash(files ...string) string {
	h := sha256.New()
	for _, f := range files {
		b, err := builderCode.ReadFile(f)
		if err != nil {
			panic("artifacts: embedded builder source " + f + ": " + err.Error())
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// CacheDir is where built artifacts are cached:
// $CLUSTERCTL_ARTIFACTS_CACHE, else ~/.cache/clusterctl/artifacts.
func CacheDir() (string, error) { return artifacts.CacheDir("CLUSTERCTL_ARTIFACTS_CACHE", "artifacts") }

// Prepare fills dir (creating it) and returns what is there. It is
// idempotent and cheap when everything is already in place. With msm, dir
// gets that release's jars; without, jars an earlier release put there are
// taken away again, real MSM jars the user put there by hand are kept as
// they are, and otherwise the stand-in is built (Manifest.MSMStandIn).
func Prepare(ctx context.Context, dir string, msm *MSMRelease) (Manifest, error) {
	cache, err := CacheDir()
	if err != nil {
		return Manifest{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Manifest{}, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("artifacts: %w", err)
	}
	m := Manifest{Dir: abs}
	prepareMSMRelease := func(ctx context.Context, cache string, m *Manifest) error {
		return prepareMSM(ctx, cache, msm, m)
	}
	for _, step := range []func(context.Context, string, *Manifest) error{prepareTomcat, prepareJDK, prepareMSMRelease} {
		if err := ctx.Err(); err != nil {
			return Manifest{}, err
		}
		if err := step(ctx, cache, &m); err != nil {
			return Manifest{}, err
		}
	}
	return m, nil
}

var eclipseRelease = regexp.MustCompile(`eclipse(\d+\.\d+)`)

func prepareTomcat(ctx context.Context, cache string, m *Manifest) error {
	versions, err := debVersions(ctx, "libtomcat9-java", "tomcat10-common", "tomcat10", "libeclipse-jdt-core-java")
	if err != nil {
		return err
	}
	m.TomcatVersion = upstreamVersion(versions[0])
	// Apache names the JSP compiler after the Eclipse release (ecj-4.20.jar).
	ecj := "ecj-" + upstreamVersion(versions[3]) + ".jar"
	if r := eclipseRelease.FindStringSubmatch(versions[3]); r != nil {
		ecj = "ecj-" + r[1] + ".jar"
	}
	m.TomcatTopDir = "apache-tomcat-" + m.TomcatVersion
	m.TomcatTarball = m.TomcatTopDir + ".tar.gz"
	m.TomcatSHA512 = m.TomcatTarball + ".sha512"
	built, err := cached(cache, m.TomcatTopDir, append(versions, tomcatRecipe), func(out string) error {
		return buildTomcat(ctx, out, m.TomcatVersion, ecj)
	})
	if err != nil {
		return err
	}
	return installFiles(built, m.Dir, m.TomcatTarball, m.TomcatSHA512)
}

func prepareJDK(ctx context.Context, cache string, m *Manifest) error {
	versions, err := debVersions(ctx, "openjdk-17-jre-headless")
	if err != nil {
		return err
	}
	if m.JDKVersion, err = jdkVersion(); err != nil {
		return err
	}
	m.JDKTopDir = "jdk-" + m.JDKVersion
	m.JDKTarball = JDKTarballName
	built, err := cached(cache, m.JDKTopDir, append(versions, jdkRecipe), func(out string) error {
		return buildJDK(out, m.JDKTarball, m.JDKTopDir)
	})
	if err != nil {
		return err
	}
	return installFiles(built, m.Dir, m.JDKTarball)
}

func debVersions(ctx context.Context, pkgs ...string) ([]string, error) {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		v, err := debVersion(ctx, p)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

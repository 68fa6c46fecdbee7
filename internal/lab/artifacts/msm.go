package artifacts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/assets"
)

// MSMVersion is the memcached-session-manager release the lab deploys (and
// whose Maven file names the stand-in borrows).
const MSMVersion = "2.3.2"

// StandInTitle is the Implementation-Title in every stand-in jar; it is how
// Prepare (and anyone) tells the test double from real MSM.
const StandInTitle = "clusterctl MSM test double (not memcached-session-manager)"

func msmCoreJar(v string) string { return "memcached-session-manager-" + v + ".jar" }
func msmTC9Jar(v string) string  { return "memcached-session-manager-tc9-" + v + ".jar" }

// tc9Classes go into the -tc9 jar, like real MSM's Tomcat 9 module.
func isTC9Class(name string) bool {
	return strings.HasPrefix(path.Base(name), "MemcachedBackupSessionManager")
}

// standInHash fingerprints the embedded stand-in sources, so editing them
// rebuilds the cached jars.
func standInHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(assets.MSMStandIn, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.MSMStandIn.ReadFile(p)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// javacClasspath: the Debian jars the stand-in compiles against.
func javacClasspath() ([]string, error) {
	var cp []string
	for _, n := range []string{"servlet-api", "catalina", "coyote", "util", "juli", "api"} {
		p := filepath.Join(javaDir, "tomcat9-"+n+".jar")
		if err := need(p, "libtomcat9-java"); err != nil {
			return nil, err
		}
		cp = append(cp, p)
	}
	p := filepath.Join(javaDir, "spymemcached.jar")
	if err := need(p, "libspymemcached-java"); err != nil {
		return nil, err
	}
	return append(cp, p), nil
}

// buildStandIn compiles assets/msm-standin into the two MSM-named jars in out.
func buildStandIn(ctx context.Context, out string) error {
	javac := filepath.Join(jdkHome, "bin", "javac")
	if err := need(javac, "openjdk-17-jdk-headless"); err != nil {
		return err
	}
	cp, err := javacClasspath()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "msm-standin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var sources []string
	var readme []byte
	err = fs.WalkDir(assets.MSMStandIn, "msm-standin", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.MSMStandIn.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".java"):
			dst := filepath.Join(work, "src", filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			sources = append(sources, dst)
			return os.WriteFile(dst, b, 0o644)
		case path.Base(p) == "README.md":
			readme = b
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(sources)
	classes := filepath.Join(work, "classes")
	args := append([]string{"--release", "11", "-encoding", "UTF-8", "-nowarn", "-implicit:none",
		"-d", classes, "-cp", strings.Join(cp, ":")}, sources...)
	cmd := exec.CommandContext(ctx, javac, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("artifacts: compiling the MSM stand-in: %v\n%s", err, stderr.String())
	}
	var core, tc9 []jarEntry
	err = filepath.WalkDir(classes, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(classes, p)
		e := jarEntry{filepath.ToSlash(rel), b}
		if isTC9Class(e.name) {
			tc9 = append(tc9, e)
		} else {
			core = append(core, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(tc9) == 0 || len(core) == 0 {
		return errors.New("artifacts: MSM stand-in compiled to an unexpected set of classes")
	}
	doc := jarEntry{"META-INF/README-clusterctl-msm-test-double.md", readme}
	for _, j := range []struct {
		name    string
		entries []jarEntry
	}{{msmCoreJar(MSMVersion), append(core, doc)}, {msmTC9Jar(MSMVersion), append(tc9, doc)}} {
		if err := writeJar(filepath.Join(out, j.name), standInManifest(), j.entries); err != nil {
			return err
		}
	}
	return nil
}

func standInManifest() string {
	return "Manifest-Version: 1.0\r\n" +
		"Implementation-Title: " + StandInTitle + "\r\n" +
		"Implementation-Version: " + MSMVersion + "\r\n" +
		"Implementation-Vendor: clusterctl lab - TEST STAND-IN, NEVER FOR PRODUCTION\r\n" +
		"Created-By: clusterctl\r\n\r\n"
}

// jarIsStandIn tells a stand-in jar from a real one by its manifest.
func jarIsStandIn(file string) (bool, error) {
	m, err := readJarManifest(file)
	if err != nil {
		return false, fmt.Errorf("artifacts: %s is not a readable jar: %w", file, err)
	}
	return strings.Contains(m, StandInTitle), nil
}

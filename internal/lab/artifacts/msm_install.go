package artifacts

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// prepareMSM keeps real MSM jars found in the artifacts directory and
// otherwise installs the stand-in; spymemcached always comes from Debian
// unless the user supplied one next to real MSM.
func prepareMSM(ctx context.Context, cache string, rel *MSMRelease, m *Manifest) error {
	if err := placeMSM(m.Dir, rel); err != nil {
		return err
	}
	spyDeb, err := debVersion(ctx, "libspymemcached-java")
	if err != nil {
		return err
	}
	spySrc := filepath.Join(javaDir, "spymemcached.jar")
	if err := need(spySrc, "libspymemcached-java"); err != nil {
		return err
	}
	spyJar := "spymemcached-" + upstreamVersion(spyDeb) + ".jar"

	real, standIns, err := scanMSMJars(m.Dir)
	if err != nil {
		return err
	}
	if len(real) > 0 {
		return useRealMSM(m, real, standIns, spySrc, spyJar)
	}

	versions, err := debVersions(ctx, "libtomcat9-java", "libspymemcached-java", "openjdk-17-jdk-headless")
	if err != nil {
		return err
	}
	hash, err := standInHash()
	if err != nil {
		return err
	}
	built, err := cached(cache, "msm-standin-"+MSMVersion, append(versions, hash, msmRecipe), func(out string) error {
		return buildStandIn(ctx, out)
	})
	if err != nil {
		return err
	}
	if err := installFiles(built, m.Dir, msmCoreJar(MSMVersion), msmTC9Jar(MSMVersion)); err != nil {
		return err
	}
	if err := installFile(spySrc, filepath.Join(m.Dir, spyJar)); err != nil {
		return err
	}
	m.MSMVersion = MSMVersion
	m.MSMJars = []string{msmCoreJar(MSMVersion), msmTC9Jar(MSMVersion), spyJar}
	m.MSMStandIn = true
	m.MSMSHA256, err = msmDigests(m.Dir, m.MSMJars)
	return err
}

// scanMSMJars sorts the memcached-session-manager*.jar files in dir into
// real ones and stand-ins (by manifest).
func scanMSMJars(dir string) (real, standIns []string, err error) {
	files, _ := filepath.Glob(filepath.Join(dir, "memcached-session-manager-*.jar"))
	sort.Strings(files)
	for _, f := range files {
		si, err := jarIsStandIn(f)
		if err != nil {
			return nil, nil, err
		}
		if si {
			standIns = append(standIns, filepath.Base(f))
		} else {
			real = append(real, filepath.Base(f))
		}
	}
	return real, standIns, nil
}

// useRealMSM checks that the user's real jars form one MSM release for
// Tomcat 9 and records them, removing stand-in jars that would otherwise
// sit beside them on Tomcat's class path.
func useRealMSM(m *Manifest, real, standIns []string, spySrc, spyJar string) error {
	v, err := msmReleaseVersion(real)
	if err != nil {
		return fmt.Errorf("artifacts: real MSM jars in %s: %w", m.Dir, err)
	}
	for _, n := range standIns {
		if err := os.Remove(filepath.Join(m.Dir, n)); err != nil {
			return fmt.Errorf("artifacts: removing stand-in jar next to real MSM: %w", err)
		}
	}
	spies, _ := filepath.Glob(filepath.Join(m.Dir, "spymemcached-*.jar"))
	if len(spies) == 0 {
		if err := installFile(spySrc, filepath.Join(m.Dir, spyJar)); err != nil {
			return err
		}
		spies = []string{spyJar}
	}
	sort.Strings(spies)
	m.MSMVersion = v
	m.MSMJars = []string{msmCoreJar(v), msmTC9Jar(v), filepath.Base(spies[len(spies)-1])}
	m.MSMStandIn = false
	m.MSMSHA256, err = msmDigests(m.Dir, m.MSMJars)
	return err
}

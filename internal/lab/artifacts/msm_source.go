package artifacts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/checksum"
)

// MSMRelease is a directory of real MSM jars checked by CheckMSMJars to form
// one release for the lab's Tomcat 9.
type MSMRelease struct {
	Dir     string   // absolute
	Version string   // e.g. 2.3.2
	Jars    []string // core, tc9, then a spymemcached jar if the directory has one
}

// CheckMSMJars checks, without changing anything, that dir holds exactly one
// real memcached-session-manager-<v>.jar and one
// memcached-session-manager-tc9-<v>.jar of the same version; the error names
// what is missing or extra.
func CheckMSMJars(dir string) (MSMRelease, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return MSMRelease{}, err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return MSMRelease{}, fmt.Errorf("MSM jars: %s is not a directory", dir)
	}
	files, _ := filepath.Glob(filepath.Join(abs, "memcached-session-manager-*.jar"))
	var names []string
	for _, f := range files {
		si, err := jarIsStandIn(f)
		if err != nil {
			return MSMRelease{}, fmt.Errorf("MSM jars: %w", err)
		}
		if si {
			return MSMRelease{}, fmt.Errorf("MSM jars: %s is clusterctl's stand-in, not real memcached-session-manager", f)
		}
		names = append(names, filepath.Base(f))
	}
	v, err := msmReleaseVersion(names)
	if err != nil {
		return MSMRelease{}, fmt.Errorf("MSM jars in %s: %w", dir, err)
	}
	r := MSMRelease{Dir: abs, Version: v, Jars: []string{msmCoreJar(v), msmTC9Jar(v)}}
	spies, _ := filepath.Glob(filepath.Join(abs, "spymemcached-*.jar"))
	if len(spies) > 1 {
		return MSMRelease{}, fmt.Errorf("MSM jars in %s: more than one spymemcached jar (%s)", dir, baseNames(spies))
	}
	if len(spies) == 1 {
		r.Jars = append(r.Jars, filepath.Base(spies[0]))
	}
	return r, nil
}

// msmReleaseVersion is the one version that names make up as a core + tc9
// pair of jars, or an error naming what is missing or doubled.
func msmReleaseVersion(names []string) (string, error) {
	var core, tc9 []string
	for _, n := range names {
		v := strings.TrimSuffix(strings.TrimPrefix(n, "memcached-session-manager-"), ".jar")
		switch {
		case strings.HasPrefix(v, "tc9-"):
			tc9 = append(tc9, strings.TrimPrefix(v, "tc9-"))
		case v != "" && v[0] >= '0' && v[0] <= '9':
			core = append(core, v)
		}
	}
	switch {
	case len(core) == 0 && len(tc9) == 0:
		return "", errors.New("no memcached-session-manager-<v>.jar and no memcached-session-manager-tc9-<v>.jar")
	case len(core) > 1 || len(tc9) > 1 || (len(core) == 1 && len(tc9) == 1 && core[0] != tc9[0]):
		return "", fmt.Errorf("more than one MSM version (%s): keep one memcached-session-manager-<v>.jar"+
			" and one memcached-session-manager-tc9-<v>.jar of the same version", strings.Join(names, ", "))
	case len(tc9) == 0:
		return "", fmt.Errorf("%s has no Tomcat 9 module: %s is missing", msmCoreJar(core[0]), msmTC9Jar(core[0]))
	case len(core) == 0:
		return "", fmt.Errorf("%s has no core module: %s is missing", msmTC9Jar(tc9[0]), msmCoreJar(tc9[0]))
	}
	return core[0], nil
}

func baseNames(files []string) string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Base(f)
	}
	return strings.Join(out, ", ")
}

// msmSourceFile, in the artifacts directory, lists the jars placeMSM copied
// there from an MSMRelease, so a later Prepare without one takes exactly
// those away again and leaves jars the user put there by hand.
const msmSourceFile = ".msm-jars-from.json"

type msmSource struct {
	From string   `json:"from"`
	Jars []string `json:"jars"`
}

// placeMSM makes dir hold the release's jars (and no other MSM jar), or,
// with rel nil, removes what an earlier release put there.
func placeMSM(dir string, rel *MSMRelease) error {
	marker := filepath.Join(dir, msmSourceFile)
	if rel == nil {
		b, err := os.ReadFile(marker)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		var s msmSource
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil {
			return fmt.Errorf("artifacts: %s: %w", marker, err)
		}
		for _, j := range s.Jars {
			if err := os.Remove(filepath.Join(dir, filepath.Base(j))); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("artifacts: %w", err)
			}
		}
		return os.Remove(marker)
	}
	keep := map[string]bool{}
	for _, j := range rel.Jars {
		keep[j] = true
	}
	var others []string
	for _, pat := range []string{"memcached-session-manager-*.jar", "spymemcached-*.jar"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		others = append(others, files...)
	}
	for _, f := range others {
		if !keep[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("artifacts: removing %s before placing real MSM: %w", filepath.Base(f), err)
			}
		}
	}
	for _, j := range rel.Jars {
		if err := installFile(filepath.Join(rel.Dir, j), filepath.Join(dir, j)); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(msmSource{From: rel.Dir, Jars: rel.Jars}, "", "  ")
	return os.WriteFile(marker, append(b, '\n'), 0o644)
}

// msmDigests are the sha256 of each MSM jar in dir, for the record of which
// MSM ran.
func msmDigests(dir string, jars []string) (map[string]string, error) {
	out := make(map[string]string, len(jars))
	for _, j := range jars {
		d, err := checksum.SHA256(filepath.Join(dir, j))
		if err != nil {
			return nil, fmt.Errorf("artifacts: %w", err)
		}
		out[j] = d
	}
	return out, nil
}

// MSMSummary says which MSM the manifest holds, for logs, `lab status` and
// the lab inventory: "real memcached-session-manager 2.3.2 (core sha256 ...,
// tc9 sha256 ...)" or the stand-in.
func (m Manifest) MSMSummary() string {
	if m.MSMVersion == "" {
		return "no MSM prepared"
	}
	what := "real memcached-session-manager " + m.MSMVersion
	if m.MSMStandIn {
		what = "clusterctl's MSM stand-in (test double of " + m.MSMVersion + ", not real MSM)"
	}
	names := make([]string, 0, len(m.MSMSHA256))
	for n := range m.MSMSHA256 {
		if strings.HasPrefix(n, "memcached-session-manager-") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, n+" sha256 "+m.MSMSHA256[n])
	}
	if len(parts) == 0 {
		return what
	}
	return what + ": " + strings.Join(parts, ", ")
}

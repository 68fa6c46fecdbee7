package artifacts

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// jdkSkip are paths (relative to the JDK home) left out of the tarball:
// not needed to run Java, or Debian-only links into other packages.
var jdkSkip = map[string]bool{
	"jmods": true, "man": true, "docs": true, "demo": true,
	"lib/src.zip":           true, // link into openjdk-17-source
	"lib/libatk-wrapper.so": true, // link into libatk-wrapper-java-jni
}

// jdkVersion reads JAVA_VERSION from the JDK's release file.
func jdkVersion() (string, error) {
	f, err := os.Open(filepath.Join(jdkHome, "release"))
	if err != nil {
		return "", need(filepath.Join(jdkHome, "release"), "openjdk-17-jre-headless")
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "JAVA_VERSION="); ok {
			return strings.Trim(v, `"`), nil
		}
	}
	return "", fmt.Errorf("artifacts: no JAVA_VERSION in %s/release", jdkHome)
}

// buildJDK writes name (a .tar.gz) into out: the JDK home under top/, every
// symlink replaced by what it points to, so the tree works anywhere (Debian
// links conf/ and cacerts into /etc). Dangling links are dropped.
func buildJDK(out, name, top string) error {
	if err := need(filepath.Join(jdkHome, "bin", "java"), "openjdk-17-jre-headless"); err != nil {
		return err
	}
	t, err := newTgz(filepath.Join(out, name))
	if err != nil {
		return err
	}
	if err := t.dir(top, 0o755); err != nil {
		return err
	}
	if err := addTree(t, jdkHome, "", top); err != nil {
		t.close()
		return fmt.Errorf("artifacts: packing %s: %w", jdkHome, err)
	}
	return t.close()
}

// addTree adds dir/rel recursively, following symlinks (os.Stat).
func addTree(t *tgz, root, rel, top string) error {
	entries, err := os.ReadDir(filepath.Join(root, rel))
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		r := filepath.ToSlash(filepath.Join(rel, n))
		if jdkSkip[r] {
			continue
		}
		p := filepath.Join(root, r)
		st, err := os.Stat(p)
		if err != nil {
			continue // dangling symlink
		}
		name := top + "/" + r
		switch {
		case st.IsDir():
			if err := t.dir(name, int64(st.Mode().Perm())); err != nil {
				return err
			}
			if err := addTree(t, root, r, top); err != nil {
				return err
			}
		case st.Mode().IsRegular():
			if err := t.file(name, int64(st.Mode().Perm()), p); err != nil {
				return err
			}
		}
	}
	return nil
}

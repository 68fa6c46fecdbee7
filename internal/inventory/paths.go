package inventory

import (
	"path/filepath"
	"strings"
)

// resolvePath expands a leading "~" or "~/" to home and makes a relative path
// absolute against baseDir (the inventory file's directory), so that a path
// in the inventory means the same thing whatever directory clusterctl runs
// from. "~user/..." is left as is (validation rejects it: resolving other
// users' homes needs a user database lookup, which the inventory should not do),
// and so is "~" when home is unknown.
func resolvePath(p, baseDir, home string) string {
	if p == "" {
		return ""
	}
	if home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		p = filepath.Join(home, p[1:])
	}
	if strings.HasPrefix(p, "~") {
		return p
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	return filepath.Clean(p)
}

// ArtifactPath says where to look for an artifact named in the inventory
// (java.tarball, tomcat.tarball, a jar): a bare file name is looked up in
// artifacts.dir; anything with a slash is a path, resolved like every other
// path in the inventory ("~" expanded, relative to the inventory file).
// It does not check that the file exists.
func (inv *Inventory) ArtifactPath(name string) string {
	if name == "" {
		return ""
	}
	if !strings.ContainsRune(name, '/') {
		return filepath.Join(inv.Artifacts.Dir, name)
	}
	home := ""
	if strings.HasPrefix(name, "~") {
		home = homeDir()
	}
	return resolvePath(name, inv.baseDir, home)
}

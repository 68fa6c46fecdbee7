// Package archtest holds tests of the code's shape, not of its behaviour:
// the package graph that docs/architecture.md describes.
package archtest

import (
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/clusterctl/clusterctl/"

// layer places every package of the module: a package imports only
// packages of a lower layer. A new package must be placed here, which is the
// moment to decide where it belongs (docs/architecture.md says why each is
// where it is).
var layer = map[string]int{
	"cmd/clusterctl": 8,
	"internal/cli":   7,
	"internal/phase": 6,

	"internal/rollout": 5,
	"internal/status":  5,

	"playbooks":       4,
	"internal/verify": 4,

	"internal/teardown":  3,
	"internal/preflight": 3,
	"internal/platform":  3,
	"internal/output":    3,
	"internal/msmhealth": 3,
	"internal/appgate":   3,
	"internal/lab":       3,

	"internal/engine":        2,
	"internal/topology":      2,
	"internal/hostlock":      2,
	"internal/sshsettings":   2,
	"internal/lab/artifacts": 2,

	"internal/probe":     1,
	"internal/transport": 1,
	"internal/inventory": 1,
	"internal/artifacts": 1,
	"templates":          1,

	"internal/engine/enginetest":       1,
	"internal/remote":                  0,
	"internal/checksum":                0,
	"internal/parallel":                0,
	"internal/loadgen":                 0,
	"internal/memcache":                0,
	"internal/memcache/memcachetest":   0,
	"internal/lab/netdelay":            0,
	"internal/sshtest":                 0,
	"internal/artifacts/artifactstest": 0,
	"assets":                           0,
	"e2e":                              9,
}

// transportUsers: the SSH transport sits beside the engine behind
// remote.Conn; only the code that builds connections may know it.
var transportUsers = map[string]bool{
	"internal/sshsettings": true,
	"internal/phase":       true,
}

func TestImportsRunDownward(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := modulePackages(t, root)
	if len(pkgs) < 20 {
		t.Fatalf("found only %d packages under %s: is the walk broken?", len(pkgs), root)
	}
	for _, rel := range pkgs {
		from, placed := layer[rel]
		if !placed {
			t.Errorf("%s is not placed in archtest's layer table: give it a layer (docs/architecture.md)", rel)
			continue
		}
		p, err := build.ImportDir(filepath.Join(root, rel), 0)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := strings.TrimPrefix(imp, module)
			if to == "internal/transport" && !transportUsers[rel] {
				t.Errorf("%s imports internal/transport: only %v build connections; take a remote.Conn", rel, keys(transportUsers))
			}
			if l, ok := layer[to]; ok && l >= from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports run downward only", rel, from, to, l)
			}
		}
	}
}

// modulePackages lists the directories under root that hold a non-test Go
// package (build tags ignored, so e2e counts).
func modulePackages(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "lab" && filepath.Dir(path) == root) {
			return filepath.SkipDir
		}
		ctx := build.Default
		ctx.BuildTags = []string{"e2e"}
		p, err := ctx.ImportDir(path, 0)
		if err != nil || len(p.GoFiles) == 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

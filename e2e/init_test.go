//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/inventory"
)

// init for the lab's addresses writes an inventory that apply converges,
// with only the edits an operator makes to a starter (the key, the
// known_hosts, where the artifacts are, the JDK tarball instead of the
// distribution's): exit 0, a second apply changes nothing, and verify's
// health checks pass.
func TestInitForTheLabConverges(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	labInv, err := inventory.Load(testLab.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	out, err := exec.Command(clusterctlBin(t), "-i", path, "init",
		"--proxy", hostAddr(t, "proxy"), "--tomcat", hostAddr(t, "t58"), "--tomcat", hostAddr(t, "t68"),
		"--name", labInv.Cluster.Name, "--domain", labInv.Cluster.Domain, "--timezone", labInv.Cluster.Timezone,
		"--key", testLab.KeyFile).CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, e := range [][2]string{
		{"known_hosts: ~/.ssh/known_hosts", "known_hosts: " + testLab.KnownHosts},
		{"dir: ./artifacts", "dir: " + labInv.Artifacts.Dir},
		{"install: package", "install: tarball\n  tarball: " + labInv.Java.Tarball},
	} {
		if !strings.Contains(text, e[0]) {
			t.Fatalf("the starter lacks %q:\n%s", e[0], text)
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runCmd(t, invCmd(t, path, "apply")); res.ExitCode != 0 {
		t.Fatalf("apply of the starter: exit %d:\n%s\n%s", res.ExitCode, strings.Join(res.Failures(), "\n"), lastLines(res.Stdout+res.Stderr, 20))
	} else {
		t.Logf("apply of the starter on the applied lab: %d changed: %q", len(res.Changed()), res.Changed())
	}
	if again := runCmd(t, invCmd(t, path, "apply")); again.ExitCode != 0 || len(again.Changed()) != 0 {
		t.Errorf("second apply of the starter: exit %d, changed %q", again.ExitCode, again.Changed())
	}
	if v := runCmd(t, invCmd(t, path, "verify", "--no-drill")); v.ExitCode != 0 {
		t.Errorf("verify of the starter's cluster: exit %d:\n%s", v.ExitCode, strings.Join(v.Failures(), "\n"))
	}
}

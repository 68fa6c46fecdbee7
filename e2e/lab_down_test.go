//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/lab"
)

// TestLabDown takes the lab down itself and checks that nothing is left,
// then plants the leftovers of a half-finished `up` and checks that Down
// finds them by name alone. The suite's lab comes back up when it ends
// (pristine, from the cached images), so it runs in any order.
func TestLabDown(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() { bringUp(t, labOpts) })
	if err := lab.Down(ctx, labOpts); err != nil {
		t.Fatal(err)
	}
	assertNoLab(t)
	if err := lab.Down(ctx, labOpts); err != nil {
		t.Fatalf("second down: %v", err)
	}

	t.Run("leftovers", func(t *testing.T) {
		for _, args := range [][]string{
			{"netns", "add", "lab-stale"},
			{"link", "add", "br-lab", "type", "bridge"},
			{"link", "add", "lab-stale", "type", "veth", "peer", "name", "eth0", "netns", "lab-stale"},
			{"link", "add", "lab-stale2", "type", "veth", "peer", "name", "lab-stale2p"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %v: %v: %s", args, err, out)
			}
		}
		if err := lab.Down(ctx, labOpts); err != nil {
			t.Fatal(err)
		}
		assertNoLab(t)
	})
}

func assertNoLab(t *testing.T) {
	t.Helper()
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "lab-") {
			t.Errorf("netns left: %s", l)
		}
	}
	out, _ = exec.Command("ip", "-o", "link", "show").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			name := strings.Split(strings.TrimSuffix(f[1], ":"), "@")[0]
			if name == "br-lab" || strings.HasPrefix(name, "lab-") {
				t.Errorf("link left: %s", name)
			}
		}
	}
	mounts, _ := os.ReadFile("/proc/mounts")
	for _, l := range strings.Split(string(mounts), "\n") {
		if strings.Contains(l, "clusterctl-lab") || strings.Contains(l, "/clusterctl/lab/machines") {
			t.Errorf("mount left: %s", l)
		}
	}
	for _, cg := range []string{"/sys/fs/cgroup/systemd/clusterctl-lab", "/sys/fs/cgroup/unified/clusterctl-lab", "/sys/fs/cgroup/clusterctl-lab"} {
		if _, err := os.Stat(cg); err == nil {
			t.Errorf("cgroup left: %s", cg)
		}
	}
	for _, name := range []string{"systemd-nspawn", "apt-cacher-ng"} {
		out, _ := exec.Command("pgrep", "-x", name).Output()
		for _, pid := range strings.Fields(string(out)) {
			// An exited child not yet reaped by PID 1 is not a leftover.
			if stat, err := os.ReadFile(fmt.Sprintf("/proc/%s/stat", pid)); err == nil && !isZombie(string(stat)) {
				cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
				t.Errorf("%s still running: pid %s: %s", name, pid, strings.ReplaceAll(string(cmd), "\x00", " "))
			}
		}
	}
}

func isZombie(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Without systemd outside, systemd-nspawn --keep-unit runs the container in
// the cgroup it was started in and creates "payload" and "supervisor" below
// it. Started from the same cgroup, all hosts would share one payload
// cgroup and their systemd instances would create and remove each other's
// unit cgroups (seen as units failing at boot with status=219/CGROUP). So
// each nspawn is started in a cgroup of its own, clusterctl-lab/<name>, in
// each hierarchy systemd uses: the named v1 "systemd" hierarchy and the
// unified (v2) one, whichever are mounted.
const cgroupDir = "clusterctl-lab"

// cgroupRoots returns the mount points of the hierarchies systemd tracks
// processes in.
func cgroupRoots() []string {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		switch {
		case f[2] == "cgroup2":
			out = append(out, unescapeMount(f[1]))
		case f[2] == "cgroup" && strings.Contains(","+f[3]+",", ",name=systemd,"):
			out = append(out, unescapeMount(f[1]))
		}
	}
	return out
}

// hostCgroupProcs creates the host's cgroups and returns their cgroup.procs
// files, into which the launcher moves itself before exec'ing nspawn.
func hostCgroupProcs(name string) ([]string, error) {
	var out []string
	for _, root := range cgroupRoots() {
		dir := filepath.Join(root, cgroupDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("lab: cgroup for %s: %w", name, err)
		}
		out = append(out, filepath.Join(dir, "cgroup.procs"))
	}
	return out, nil
}

// removeCgroups removes the lab's cgroup trees once their processes are
// gone. Cgroup directories are removed with rmdir, deepest first (their
// control files cannot be deleted).
func removeCgroups() error {
	var errs []error
	for _, root := range cgroupRoots() {
		top := filepath.Join(root, cgroupDir)
		var dirs []string
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("lab: remove cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// killCgroup SIGKILLs every process left in the lab's cgroups (sub = a host
// name, or "" for all hosts) and waits for them to go. It is the backstop
// after nspawn is gone: a container's init that outlived its nspawn would
// otherwise keep its namespaces, its overlay and its processes alive.
func killCgroup(sub string) error {
	var pids []int
	for try := 0; try < 100; try++ {
		pids = cgroupPids(sub)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("lab: processes survive in cgroup %s/%s: %v", cgroupDir, sub, pids)
}

// cgroupPids lists the live processes in the lab's cgroups.
func cgroupPids(sub string) []int {
	seen := map[int]bool{}
	var out []int
	for _, root := range cgroupRoots() {
		filepath.WalkDir(filepath.Join(root, cgroupDir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && !seen[pid] && alive(pid) {
					seen[pid] = true
					out = append(out, pid)
				}
			}
			return nil
		})
	}
	return out
}

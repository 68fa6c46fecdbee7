package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Down stops and removes the lab: hosts (clean poweroff, SIGKILL after
// ~10 s), apt-cacher-ng, namespaces, veths, the bridge, overlay mounts and
// per-host trees. The rootfs and apt caches, console logs and the output
// dir stay. It finds everything by naming convention, so it also cleans up
// after a crashed or half-finished Up, and running it twice is harmless.
func Down(ctx context.Context, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	return down(ctx, o)
}

func down(ctx context.Context, o Options) error {
	t := time.Now()
	var errs []error

	// Hosts first: nothing may hold the namespaces or trees afterwards.
	machines := labMachines()
	if s, err := readState(o); err == nil {
		for _, h := range s.Hosts {
			if _, ok := machines[h.Name]; !ok && h.PID > 0 && isNspawn(h.PID) {
				machines[h.Name] = h.PID
			}
		}
	}
	if len(machines) > 0 {
		logf(o.Log, "stopping %d hosts", len(machines))
	}
	done := make(chan error, len(machines))
	for name, pid := range machines {
		go func() {
			if err := stopProcess(ctx, pid, 10*time.Second); err != nil {
				done <- fmt.Errorf("lab: stop %s: %w", name, err)
				return
			}
			done <- nil
		}()
	}
	for range machines {
		if err := <-done; err != nil {
			errs = append(errs, err)
		}
	}

	if err := killCgroup(""); err != nil {
		errs = append(errs, err)
	}

	for _, pid := range labAptProxies() {
		if err := stopProcess(ctx, pid, 5*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("lab: stop apt-cacher-ng: %w", err))
		}
	}

	if err := teardownNetwork(ctx); err != nil {
		errs = append(errs, err)
	}

	for _, m := range labMounts() {
		if err := unmount(m); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeCgroups(); err != nil {
		errs = append(errs, err)
	}
	if err := removeMachines(o); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(o.stateFile()); err != nil && !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(machines) > 0 {
		logf(o.Log, "lab down in %s", time.Since(t).Round(100*time.Millisecond))
	}
	return nil
}

// removeMachines deletes the per-host trees, but never while anything is
// still mounted below them (removing through a mount would reach into the
// mounted tree instead of the upper layer).
func removeMachines(o Options) error {
	dir := o.machinesDir()
	b, _ := os.ReadFile("/proc/mounts")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			if m := unescapeMount(f[1]); m == dir || strings.HasPrefix(m, dir+"/") {
				return fmt.Errorf("lab: %s is still mounted; not removing host trees", m)
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("lab: remove host trees: %w", err)
	}
	return nil
}

func isNspawn(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !alive(pid) {
		return false
	}
	return filepath.Base(strings.SplitN(string(b), "\x00", 2)[0]) == "systemd-nspawn"
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A host's tree is an overlay: the shared rootfs below, a per-host upper
// layer (<cache>/machines/<name>/upper) above, mounted at .../root. Mounting
// is instant where `cp -a` of the base costs seconds per host, and the base
// stays pristine for the next run.
func (o Options) machineDir(h string) string  { return filepath.Join(o.machinesDir(), h) }
func (o Options) machineRoot(h string) string { return filepath.Join(o.machineDir(h), "root") }

func mountMachine(o Options, base, name string) (string, error) {
	dir := o.machineDir(name)
	upper, work, root := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "root")
	for _, d := range []string{upper, work, root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", base, upper, work)
	if err := syscall.Mount(overlaySource, root, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("lab: overlay for %s: %w", name, err)
	}
	return root, nil
}

// configureMachine writes what makes a copy of the base into one lab host,
// before it boots: its own SSH host key, the lab key for root, the apt proxy
// and sources, the clock guard for chrony, and systemd-networkd masked. It
// returns the host's public key line.
func configureMachine(ctx context.Context, root, name, labPub string) (string, error) {
	hostKey := filepath.Join(root, "etc/ssh/ssh_host_ed25519_key")
	hostPub, err := genKey(ctx, hostKey, "root@"+name)
	if err != nil {
		return "", err
	}
	files := []struct {
		path string
		mode os.FileMode
		data string
	}{
		// Only the key we generated and pinned in known_hosts; sshd would
		// otherwise complain about the RSA/ECDSA keys removed from the base.
		{"etc/ssh/sshd_config.d/clusterctl-lab.conf", 0o644,
			"# clusterctl lab\nHostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\n"},
		{"root/.ssh/authorized_keys", 0o600, labPub + "\n"},
		{"etc/apt/apt.conf.d/01clusterctl-lab-proxy", 0o644,
			fmt.Sprintf("// clusterctl lab: the only way out is apt-cacher-ng on the bridge\nAcquire::http::Proxy \"http://%s:%d\";\n", BridgeAddress, AptProxyPort)},
		{"etc/apt/sources.list", 0o644,
			"deb http://deb.debian.org/debian bookworm main\n" +
				"deb http://deb.debian.org/debian bookworm-updates main\n" +
				"deb http://deb.debian.org/debian-security bookworm-security main\n"},
		// See "Clock safety" in doc.go: the container has CAP_SYS_TIME so
		// chrony starts, but the clock is the outer machine's.
		{"etc/systemd/system/chrony.service.d/clusterctl-lab-no-clock.conf", 0o644,
			"# clusterctl lab: the clock is shared with the machine running the lab;\n" +
				"# chronyd tracks and serves time (-x) but never adjusts it.\n" +
				"[Service]\nExecStart=\nExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x\n"},
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			return "", err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return "", err
		}
	}
	// The network is set up from outside with iproute2 (network.go). With
	// CAP_NET_ADMIN, systemd-networkd would start too, manage nothing, and
	// its wait-online unit would hold network-online.target (and so every
	// unit ordered after it, nginx's and Tomcat's start) for two minutes.
	for _, unit := range []string{"systemd-networkd.service", "systemd-networkd.socket", "systemd-networkd-wait-online.service"} {
		p := filepath.Join(root, "etc/systemd/system", unit)
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return "", err
		}
		if err := os.Symlink("/dev/null", p); err != nil { // masked
			return "", err
		}
	}
	// MkdirAll above made new dirs 0700; only root/.ssh must stay that way.
	for _, d := range []string{"etc/systemd/system/chrony.service.d"} {
		if err := os.Chmod(filepath.Join(root, d), 0o755); err != nil {
			return "", err
		}
	}
	return hostPub, nil
}

// nspawnArgs is the one place the container's runtime settings live.
func nspawnArgs(o Options, h Host) []string {
	return []string{
		"-D", o.machineRoot(h.Name),
		"-M", h.Name,
		"--boot",
		"--register=no", // no machined outside
		"--keep-unit",   // no systemd outside to make a scope
		"--network-namespace-path=/run/netns/" + h.netns(),
		"--capability=CAP_SYS_TIME",
		// A host may run its own firewall (firewalld/nftables) as RHEL
		// hosts do; see "Network safety" in doc.go.
		"--capability=CAP_NET_ADMIN",
		// Steps of the shared clock are refused outright; see doc.go.
		"--system-call-filter=~settimeofday clock_settime",
		// The host's own files stay the host's: apply sets the timezone and
		// resolv.conf, and they must survive a reboot of the container.
		"--timezone=off",
		"--resolv-conf=off",
		"--link-journal=no",
		"--console=read-only",
	}
}

// startMachine boots h detached: a new session so it neither dies with the
// Go process nor gets its terminal's signals. The console is appended to
// the host's log. The child is reaped in the background so a stopped host
// does not linger as a zombie while the caller lives.
func startMachine(o Options, h Host) (int, error) {
	if err := os.MkdirAll(filepath.Dir(h.ConsoleLog), 0o755); err != nil {
		return 0, err
	}
	logFile, err := os.OpenFile(h.ConsoleLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "\n===== clusterctl lab: starting %s at %s =====\n", h.Name, time.Now().Format(time.RFC3339))
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devNull.Close()
	procs, err := hostCgroupProcs(h.Name)
	if err != nil {
		return 0, err
	}
	// The shell joins the host's cgroups (see cgroup.go) and execs nspawn,
	// so the PID we record is nspawn's.
	var script strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&script, "echo $$ > '%s' && ", p)
	}
	script.WriteString(`exec systemd-nspawn "$@"`)
	cmd := exec.Command("/bin/sh", append([]string{"-c", script.String(), "systemd-nspawn"}, nspawnArgs(o, h)...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("lab: start %s: %w", h.Name, err)
	}
	go cmd.Wait()
	return cmd.Process.Pid, nil
}

// procInfo is what the process scan needs: the argv and whether the
// process has exited (a zombie counts as gone).
type procInfo struct {
	pid  int
	args []string
}

func scanProcs() []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		out = append(out, procInfo{pid: pid, args: strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")})
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// labMachines maps host name to the PID of its systemd-nspawn, found by the
// lab's naming convention (its network namespace), not by a state file.
func labMachines() map[string]int {
	const nsArg = "--network-namespace-path=/run/netns/" + netnsPrefix
	out := map[string]int{}
	for _, p := range scanProcs() {
		if filepath.Base(p.args[0]) != "systemd-nspawn" {
			continue
		}
		for _, a := range p.args[1:] {
			if strings.HasPrefix(a, nsArg) {
				out[strings.TrimPrefix(a, nsArg)] = p.pid
			}
		}
	}
	return out
}

// stopProcess sends SIGTERM (for nspawn: a clean poweroff of the
// container), waits up to grace, then SIGKILLs and waits a little more.
func stopProcess(ctx context.Context, pid int, grace time.Duration) error {
	if !alive(pid) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	if waitGone(ctx, pid, grace) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitGone(ctx, pid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("process %d survived SIGKILL", pid)
}

func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !alive(pid)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return !alive(pid)
}

// labMounts lists the lab's overlay mounts (by their source name), deepest
// first so nested mounts go before their parents.
func labMounts() []string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == overlaySource {
			out = append([]string{unescapeMount(f[1])}, out...)
		}
	}
	return out
}

// unescapeMount undoes /proc/mounts' octal escapes (\040 for a space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unmount(path string) error {
	err := syscall.Unmount(path, 0)
	if errors.Is(err, syscall.EBUSY) {
		// Something still holds it (a shell cd'ed into the tree): detach so
		// the tree can be removed; the kernel frees it when the user leaves.
		err = syscall.Unmount(path, syscall.MNT_DETACH)
	}
	if err != nil && !errors.Is(err, syscall.EINVAL) { // EINVAL: not mounted
		return fmt.Errorf("lab: unmount %s: %w", path, err)
	}
	return nil
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/lab/artifacts"
)

// Lab is a running lab, as returned by Up or Load.
type Lab struct {
	Dir         string // output dir
	Inventory   string // <Dir>/inventory.yaml
	KeyFile     string // <Dir>/id_ed25519
	KnownHosts  string // <Dir>/known_hosts
	Hosts       []Host // proxy first, then the Tomcat hosts
	AptProxyPID int
	Artifacts   artifacts.Manifest

	opts Options
	mu   sync.Mutex // guards Hosts[i].PID
}

// sshBootTimeout bounds the wait for a booting host's sshd. A warm boot
// takes ~5 s; the margin is for a loaded 2-core machine.
const sshBootTimeout = 90 * time.Second

// requiredTools are the programs the lab shells out to, with their Debian
// packages (the list .ci/run installs).
var requiredTools = map[string]string{
	"ip":             "iproute2",
	"debootstrap":    "debootstrap",
	"systemd-nspawn": "systemd-container",
	"apt-cacher-ng":  "apt-cacher-ng",
	"ssh-keygen":     "openssh-client",
}

func checkTools() error {
	var missing []string
	for tool, pkg := range requiredTools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				missing = append(missing, fmt.Sprintf("%s (package %s)", tool, pkg))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("lab: missing tools: %s", strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		return errors.New("lab: must run as root (network namespaces, mounts, systemd-nspawn)")
	}
	return nil
}

// Up builds and boots the lab and returns once every host's sshd answers
// with its pinned host key and accepts the lab key. It first runs Down, so
// leftovers of an earlier run never get in the way. On failure it tears down
// what it started; console logs stay for diagnosis.
func Up(ctx context.Context, opts Options) (*Lab, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	// Checked before the lock and the clean-up, so a bad directory leaves a
	// running lab alone.
	var msm *artifacts.MSMRelease
	if o.MSMJars != "" {
		rel, err := artifacts.CheckMSMJars(o.MSMJars)
		if err != nil {
			return nil, &OptionError{err}
		}
		msm = &rel
	}
	closeInheritedFDs()
	if err := checkTools(); err != nil {
		return nil, err
	}
	unlock, err := lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := time.Now()
	if err := down(ctx, o); err != nil {
		return nil, fmt.Errorf("lab: cleaning up an earlier lab: %w", err)
	}
	l, err := up(ctx, o, msm)
	if err != nil {
		if derr := down(context.Background(), o); derr != nil {
			logf(o.Log, "cleanup after failed up: %v", derr)
		}
		return nil, err
	}
	logf(o.Log, "lab up in %s: inventory %s", time.Since(start).Round(100*time.Millisecond), l.Inventory)
	logf(o.Log, "MSM: %s", l.Artifacts.MSMSummary())
	return l, nil
}

func up(ctx context.Context, o Options, msm *artifacts.MSMRelease) (*Lab, error) {
	// Artifacts and rootfs are independent and both may be slow when cold.
	var manifest artifacts.Manifest
	var artErr error
	artDone := make(chan struct{})
	go func() {
		defer close(artDone)
		manifest, artErr = artifacts.Prepare(ctx, o.artifactsDir(), msm)
	}()
	base, err := ensureRootfs(ctx, o)
	<-artDone
	if err != nil {
		return nil, err
	}
	if artErr != nil {
		return nil, fmt.Errorf("lab: artifacts: %w", artErr)
	}

	t := time.Now()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	labPub, err := genKey(ctx, o.keyFile(), "clusterctl-lab")
	if err != nil {
		return nil, err
	}
	if err := setupBridge(ctx); err != nil {
		return nil, err
	}
	acngPID, err := startAptProxy(ctx, o)
	if err != nil {
		return nil, err
	}
	hosts := plan(o)
	hostPubs := make(map[string]string, len(hosts))
	var mu sync.Mutex
	err = forEachHost(hosts, func(i int, h Host) error {
		root, err := mountMachine(o, base, h.Name)
		if err != nil {
			return err
		}
		pub, err := configureMachine(ctx, root, h.Name, labPub)
		if err != nil {
			return err
		}
		if err := setupHostNetwork(ctx, h); err != nil {
			return err
		}
		os.Remove(h.ConsoleLog) // one boot history per up
		pid, err := startMachine(o, h)
		if err != nil {
			return err
		}
		mu.Lock()
		hostPubs[h.Name], hosts[i].PID = pub, pid
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	logf(o.Log, "%d hosts started in %s", len(hosts), time.Since(t).Round(100*time.Millisecond))

	l := &Lab{
		Dir: o.Dir, Inventory: o.inventoryFile(), KeyFile: o.keyFile(), KnownHosts: o.knownHostsFile(),
		Hosts: hosts, AptProxyPID: acngPID, Artifacts: manifest, opts: o,
	}
	if err := writeKnownHosts(l.KnownHosts, hosts, hostPubs); err != nil {
		return nil, err
	}
	inv, err := renderInventory(inventoryData{
		Domain: Domain, Hosts: hosts, KeyFile: l.KeyFile, KnownHosts: l.KnownHosts, Artifacts: manifest,
	})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(l.Inventory, inv, 0o644); err != nil {
		return nil, err
	}
	if err := l.saveState(); err != nil {
		return nil, err
	}

	t = time.Now()
	cfg, err := l.ClientConfig()
	if err != nil {
		return nil, err
	}
	if err := forEachHost(hosts, func(_ int, h Host) error {
		return waitSSH(ctx, h, cfg, sshBootTimeout)
	}); err != nil {
		return nil, err
	}
	logf(o.Log, "all hosts answer SSH after %s", time.Since(t).Round(100*time.Millisecond))
	return l, nil
}

// forEachHost runs fn for every host in parallel and joins the errors.
func forEachHost(hosts []Host, fn func(i int, h Host) error) error {
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, h)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Load returns the lab a previous Up left running (from its state file).
func Load(opts Options) (*Lab, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := readState(o)
	if err != nil {
		return nil, fmt.Errorf("lab: no running lab (run `clusterctl lab up`): %w", err)
	}
	od := o
	od.Dir = s.Dir
	return &Lab{
		Dir: s.Dir, Inventory: od.inventoryFile(), KeyFile: od.keyFile(), KnownHosts: od.knownHostsFile(),
		Hosts: s.Hosts, AptProxyPID: s.AptProxyPID, Artifacts: s.Artifacts, opts: od,
	}, nil
}

func (l *Lab) saveState() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return writeState(l.opts, state{Dir: l.Dir, Hosts: l.Hosts, AptProxyPID: l.AptProxyPID, Artifacts: l.Artifacts})
}

// Host returns the named host.
func (l *Lab) Host(name string) (Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.Hosts {
		if h.Name == name {
			return h, nil
		}
	}
	return Host{}, fmt.Errorf("lab: no host %q", name)
}

func (l *Lab) setPID(name string, pid int) {
	l.mu.Lock()
	for i := range l.Hosts {
		if l.Hosts[i].Name == name {
			l.Hosts[i].PID = pid
		}
	}
	l.mu.Unlock()
	l.saveState()
}

// ClientConfig is an SSH client config for root with the lab key that
// verifies host keys against the lab's known_hosts.
func (l *Lab) ClientConfig() (*ssh.ClientConfig, error) {
	return clientConfig(l.KeyFile, l.KnownHosts)
}

// Dial opens an SSH connection to the named host as root.
func (l *Lab) Dial(ctx context.Context, name string) (*ssh.Client, error) {
	h, err := l.Host(name)
	if err != nil {
		return nil, err
	}
	cfg, err := l.ClientConfig()
	if err != nil {
		return nil, err
	}
	return dial(ctx, h.Address, cfg)
}

// StopHost powers the host off cleanly (SIGTERM to its nspawn; SIGKILL
// after 10 s). Its tree and network stay, so StartHost boots it again with
// everything apply put there.
func (l *Lab) StopHost(ctx context.Context, name string) error {
	h, err := l.Host(name)
	if err != nil {
		return err
	}
	if pid := labMachines()[name]; pid != 0 {
		if err := stopProcess(ctx, pid, 10*time.Second); err != nil {
			return fmt.Errorf("lab: stop %s: %w", h.Name, err)
		}
	}
	if err := killCgroup(name); err != nil {
		return err
	}
	l.setPID(name, 0)
	return nil
}

// StartHost boots a stopped host and waits for its sshd.
func (l *Lab) StartHost(ctx context.Context, name string) error {
	h, err := l.Host(name)
	if err != nil {
		return err
	}
	if pid := labMachines()[name]; pid == 0 {
		if h.PID, err = startMachine(l.opts, h); err != nil {
			return err
		}
		l.setPID(name, h.PID)
	} else {
		h.PID = pid
	}
	cfg, err := l.ClientConfig()
	if err != nil {
		return err
	}
	return waitSSH(ctx, h, cfg, sshBootTimeout)
}

// LinkDown takes the outer end of the host's veth down: the host keeps
// running but is cut off, like a pulled cable. LinkUp reconnects it.
func (l *Lab) LinkDown(ctx context.Context, name string) error { return l.setLink(ctx, name, false) }

// LinkUp reconnects a host cut off by LinkDown.
func (l *Lab) LinkUp(ctx context.Context, name string) error { return l.setLink(ctx, name, true) }

func (l *Lab) setLink(ctx context.Context, name string, up bool) error {
	h, err := l.Host(name)
	if err != nil {
		return err
	}
	return setLink(ctx, h, up)
}

// closeInheritedFDs marks every descriptor this process inherited beyond
// stdin, stdout and stderr close-on-exec. The lab's systemd-nspawn and
// apt proxy processes outlive the command that starts them: a descriptor
// handed down to them stays open until lab down, and a lab started under
// flock(1) (as the README runs the e2e suite) would hold that lock for as
// long as the lab runs, so the next flock waited forever.
func closeInheritedFDs() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

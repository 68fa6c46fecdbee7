// Package preflight checks, read-only, that every host can take what apply,
// restart and teardown are about to do, before any of them changes
// anything: a fault found half-way through a run leaves a cluster half
// configured, one found before it leaves the cluster as it was. Each check
// has a name (for --skip-preflight) and, when it fails, says what it found
// and what to do.
//
// What a host must offer (its ports, the disk its artifacts take, the
// packages that would fight ours) is a cluster fact derived by playbooks;
// this package only reads hosts.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// The checks, by the name --skip-preflight takes.
const (
	CheckConnect     = "connect"      // SSH reaches the host and its key is the known one
	CheckOS          = "os"           // a supported distribution and release
	CheckSystemd     = "systemd"      // systemd is PID 1
	CheckSudo        = "sudo"         // commands run as root without a prompt
	CheckAddress     = "address"      // the inventory's address is one of the host's own
	CheckPorts       = "ports"        // the cluster's ports are free or held by the unit that owns them
	CheckConflicts   = "conflicts"    // no distribution package that would fight ours (a distro Tomcat)
	CheckDisk        = "disk"         // room for the artifacts where they go
	CheckMemory      = "memory"       // the JVM's heap and memcached's cache fit the host's memory
	CheckPackageLock = "package-lock" // no other process holds the package manager's lock
	CheckClock       = "clock"        // the hosts' clocks agree
)

// Checks lists every check in the order they run.
var Checks = []string{CheckConnect, CheckOS, CheckSystemd, CheckSudo, CheckAddress, CheckPorts, CheckConflicts, CheckDisk, CheckMemory, CheckPackageLock, CheckClock}

// Defaults for Options.
const (
	// DefaultLockWait is how long another process may hold the package
	// manager's lock before preflight gives up: long enough for the
	// unattended-upgrades run of a freshly booted Ubuntu to finish a
	// package, short enough that a stuck apt is reported, not waited on.
	DefaultLockWait = time.Minute
	// DefaultMaxClockSkew: MSM stores a session's last access time, and a
	// Tomcat whose clock is ahead by the session timeout expires sessions
	// it takes over. Synchronised hosts agree within milliseconds; 5 s
	// flags a host with no time sync long before that hurts, and is well
	// above what one SSH round trip blurs the measurement by.
	DefaultMaxClockSkew = 5 * time.Second
	// DefaultMinFreeMB is what must stay free on a file system after the
	// artifacts are on it: Tomcat's logs and the JVM's temp files live
	// there too.
	DefaultMinFreeMB = 256
)

// Needs is what one host must offer, beyond what every host must.
type Needs struct {
	Address   string     // the inventory's address of the host
	Ports     []Port     // TCP ports the host's services listen on
	Conflicts []Conflict // packages that must not be installed
	Disk      []Disk     // artifacts apply would put on the host
	Memory    []Memory   // what the host's services hold in memory
	// Probes are reads the command makes right after the preflight (the
	// settings the disruptive-change check compares), read in its batch.
	Probes []string
}

// Memory is a fixed amount a service takes (a JVM's heap, memcached's
// cache) and the inventory field that sets it.
type Memory struct {
	What  string // "tomcat heap (tomcat.heap_mb)"
	Bytes int64
}

// Port is one listening TCP port and the systemd unit allowed to hold it.
type Port struct {
	Port int
	What string // "tomcat http"
	Unit string // "tomcat.service"
}

// Conflict is a package whose presence breaks the cluster.
type Conflict struct {
	Package string
	Why     string
}

// Disk is space an artifact takes under Path unless Present exists.
type Disk struct {
	What    string
	Path    string
	Present string                // when this path exists, nothing is needed
	Bytes   func() (int64, error) // computed only when needed (unpacked sizes read the tarball)
}

// Options tune a run.
type Options struct {
	Skip         map[string]bool // check names not to run
	LockWait     time.Duration
	MaxClockSkew time.Duration
	MinFreeMB    int64
	Parallel     int
}

func (o Options) withDefaults() Options {
	if o.LockWait <= 0 {
		o.LockWait = DefaultLockWait
	}
	if o.MaxClockSkew <= 0 {
		o.MaxClockSkew = DefaultMaxClockSkew
	}
	if o.MinFreeMB <= 0 {
		o.MinFreeMB = DefaultMinFreeMB
	}
	if o.Parallel <= 0 {
		o.Parallel = engine.DefaultParallel
	}
	return o
}

// ValidateSkip rejects a name that is no check, so a typo in
// --skip-preflight is not a check silently left running.
func ValidateSkip(names []string) (map[string]bool, error) {
	skip := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(Checks, n) {
			return nil, fmt.Errorf("--skip-preflight %q: no such check (checks: %s)", n, strings.Join(Checks, ", "))
		}
		skip[n] = true
	}
	return skip, nil
}

// Status of one result.
type Status string

const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// Result is one check on one host ("cluster" for the clock).
type Result struct {
	Host   string `json:"host"`
	Check  string `json:"check"`
	Status Status `json:"status"`
	Found  string `json:"found"`
	Fix    string `json:"fix,omitempty"` // what to do, for a failure
}

// Report is every result, in host then check order.
type Report struct {
	Results []Result
	Elapsed time.Duration
}

// Failed lists the failures.
func (r Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == StatusFailed {
			out = append(out, res)
		}
	}
	return out
}

// Err is nil when nothing failed, else one line for the command's error.
func (r Report) Err() error {
	f := r.Failed()
	if len(f) == 0 {
		return nil
	}
	hosts := map[string]bool{}
	var names, what []string
	for _, res := range f {
		if !hosts[res.Host] {
			hosts[res.Host] = true
			names = append(names, res.Host)
		}
		what = append(what, res.Host+" "+res.Check+": "+oneLine(res.Found))
	}
	// The failures ride in the error too: with --output json the table is
	// not printed, and the error line is all a log of stderr keeps.
	return fmt.Errorf("preflight: %d check(s) failed on %s (%s); nothing was changed on any host (fix them, or --skip-preflight CHECK if you know better)",
		len(f), strings.Join(names, ", "), strings.Join(what, "; "))
}

// WriteTable prints the failures as one table: host, check, what was
// found, what to do. Nothing when every check passed.
func (r Report) WriteTable(w io.Writer) {
	f := r.Failed()
	if len(f) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "preflight failed:")
	fmt.Fprintln(tw, "host\tcheck\tfound\twhat to do")
	for _, res := range f {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Host, res.Check, oneLine(res.Found), oneLine(res.Fix))
	}
	tw.Flush()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// NeedsFunc derives a host's needs once its facts are known.
type NeedsFunc func(*engine.Host) (Needs, error)

// Run checks every host; hosts are checked in parallel, the clock across
// all of them at the end. Facts are gathered on hosts that lack them.
func Run(ctx context.Context, hosts []*engine.Host, needs NeedsFunc, opts Options) Report {
	opts = opts.withDefaults()
	t0 := time.Now()
	per := make([][]Result, len(hosts))
	clocks := make([]clockReading, len(hosts))
	parallel.Each(len(hosts), opts.Parallel, func(i int) {
		c := &hostCheck{ctx: ctx, h: hosts[i], opts: opts}
		c.run(needs)
		per[i], clocks[i] = c.results, c.clock
	})
	var all []Result
	for _, rs := range per {
		all = append(all, rs...)
	}
	if !opts.Skip[CheckClock] {
		all = append(all, compareClocks(clocks, opts.MaxClockSkew)...)
	}
	return Report{Results: all, Elapsed: time.Since(t0)}
}

type hostCheck struct {
	ctx     context.Context
	h       *engine.Host
	opts    Options
	results []Result
	clock   clockReading
	failed  bool // a check failed that later ones depend on
}

func (c *hostCheck) add(check string, err error, found, fix string) {
	r := Result{Host: c.h.Name(), Check: check, Status: StatusOK, Found: found}
	if err != nil {
		r.Status, r.Found, r.Fix = StatusFailed, err.Error(), fix
	}
	c.results = append(c.results, r)
}

func (c *hostCheck) skip(check, why string) {
	c.results = append(c.results, Result{Host: c.h.Name(), Check: check, Status: StatusSkipped, Found: why})
}

// do runs one named check unless skipped, or after a failure it needs,
// or already reported.
func (c *hostCheck) do(check string, fn func() (found string, fix string, err error)) {
	for _, r := range c.results {
		if r.Check == check {
			return
		}
	}
	switch {
	case c.opts.Skip[check]:
		c.skip(check, "--skip-preflight "+check)
	case c.failed:
		c.skip(check, "not checked: an earlier check failed")
	default:
		found, fix, err := fn()
		c.add(check, err, found, fix)
	}
}

func (c *hostCheck) run(needs NeedsFunc) {
	h := c.h
	noRoot := errors.Is(h.Unreachable(), remote.ErrNoRoot)
	c.do(CheckConnect, func() (string, string, error) {
		if noRoot {
			return "logged in", "", nil // and refused root: the sudo check says so
		}
		if err := h.Unreachable(); err != nil {
			c.failed = true
			return "", "check the address, that sshd runs, and the host key (a changed key is never accepted: remove the old line from known_hosts only if you know why it changed)", err
		}
		return "connected", "", nil
	})
	if noRoot { // logged in, but root is refused: nothing else can be read
		c.add(CheckSudo, h.Unreachable(), "", "give the SSH user passwordless sudo (a NOPASSWD rule in /etc/sudoers.d) or log in as root: clusterctl never types a sudo password")
	}
	if h.Unreachable() != nil {
		c.failed = true
	}
	// The clock is read while the facts are: it is timed by its own round
	// trip, and waiting for it after the batch would add that trip.
	clock := make(chan clockReading, 1)
	if !c.failed && !c.opts.Skip[CheckClock] {
		go func() { clock <- readClock(c.ctx, h) }()
	} else {
		clock <- clockReading{}
	}
	defer func() {
		r := <-clock
		if !c.failed && !c.opts.Skip[CheckClock] {
			c.clock = r
		}
	}()
	// The later checks need the family, whether or not os is skipped.
	// Unread, the facts ride in the checks' batch, whose commands that
	// differ by family are declared for every family.
	batched := false
	if !c.failed && !h.Facts.Gathered() {
		engine.Prefetch(c.ctx, h, c.everyFamilysProbes(needs))
		batched = true
		if err := h.GatherFacts(probe.ReadOnly(c.ctx)); err != nil {
			c.add(CheckOS, err, "", "the host must have a readable "+engine.OSReleasePath)
			c.failed = true
		}
	}
	c.do(CheckOS, func() (string, string, error) {
		if h.Facts.Family == "" { // the family-specific checks cannot run
			c.failed = true
		}
		return h.Facts.ID + " " + h.Facts.VersionID, "use a supported release, or --skip-preflight os to try anyway", h.Facts.Supported()
	})
	n, err := needs(h)
	if err == nil && !c.failed && !batched {
		engine.Prefetch(c.ctx, h, probesOn(h, n))
	}
	c.do(CheckSudo, c.sudo)
	c.do(CheckSystemd, c.systemd)
	if err != nil && !c.failed {
		c.add("needs", err, "", "fix the inventory or the local artifacts")
		c.failed = true
	}
	c.do(CheckAddress, func() (string, string, error) { return c.address(n.Address) })
	c.do(CheckPorts, func() (string, string, error) { return c.ports(n.Ports) })
	c.do(CheckConflicts, func() (string, string, error) { return c.conflicts(n.Conflicts) })
	c.do(CheckDisk, func() (string, string, error) { return c.disk(n.Disk) })
	c.do(CheckMemory, func() (string, string, error) { return c.memory(n.Memory) })
	c.do(CheckPackageLock, c.packageLock)
}

func (c *hostCheck) sh(cmd string) (string, error) {
	res, err := c.h.Conn.Run(probe.ReadOnly(c.ctx), cmd)
	if err != nil {
		return "", err
	}
	if !res.OK() {
		return res.Stdout, fmt.Errorf("exit %d: %s", res.ExitCode, strings.TrimSpace(res.Stderr+" "+res.Stdout))
	}
	return res.Stdout, nil
}

const (
	sudoCmd    = "id -u"
	systemdCmd = "cat /proc/1/comm; test -d /run/systemd/system && echo booted"
)

// everyFamilysProbes is the facts' read and every read the checks would
// make on the host for each family, each command once.
func (c *hostCheck) everyFamilysProbes(needs NeedsFunc) []string {
	out := []string{engine.ReadProbe(engine.OSReleasePath)}
	seen := map[string]bool{out[0]: true}
	for _, f := range engine.EachFamily() {
		as := engine.NewHost(c.h.Conn, nil)
		as.Facts = f
		n, err := needs(as)
		if err != nil {
			continue
		}
		for _, cmd := range probesOn(as, n) {
			if !seen[cmd] {
				seen[cmd] = true
				out = append(out, cmd)
			}
		}
	}
	return out
}

// probesOn is every read the checks will make on h, for one batch (the
// clock, which times its own round trip, reads on its own).
func probesOn(h *engine.Host, n Needs) []string {
	out := []string{sudoCmd, systemdCmd}
	if n.Address != "" {
		out = append(out, addressCmd(n.Address))
	}
	if len(n.Ports) > 0 {
		out = append(out, portsCmd(n.Ports))
	}
	if len(n.Conflicts) > 0 {
		names := make([]string, len(n.Conflicts))
		for i, cf := range n.Conflicts {
			names[i] = cf.Package
		}
		if q, err := engine.PackageQueryCmd(h.Facts, names); err == nil {
			out = append(out, q)
		}
	}
	if len(n.Disk) > 0 {
		out = append(out, diskCmd(n.Disk))
	}
	if len(n.Memory) > 0 {
		out = append(out, memoryCmd)
	}
	if q, err := engine.PackageLockCmd(h.Facts); err == nil {
		out = append(out, q)
	}
	return append(out, n.Probes...)
}

func (c *hostCheck) sudo() (string, string, error) {
	out, err := c.sh(sudoCmd)
	fix := "give the SSH user passwordless sudo (NOPASSWD) or log in as root"
	if err != nil {
		c.failed = true
		return "", fix, fmt.Errorf("cannot run commands as root: %w", err)
	}
	if uid := strings.TrimSpace(out); uid != "0" {
		c.failed = true
		return "", fix, fmt.Errorf("commands run as uid %s, not root", uid)
	}
	return "root", "", nil
}

func (c *hostCheck) systemd() (string, string, error) {
	out, err := c.sh(systemdCmd)
	pid1, booted, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if err == nil && pid1 == "systemd" && strings.TrimSpace(booted) == "booted" {
		return "systemd is PID 1", "", nil
	}
	c.failed = true
	return "", "clusterctl manages services with systemd: run it on a host booted with systemd (not a plain container)",
		fmt.Errorf("PID 1 is %q, not systemd", pid1)
}

package preflight

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/probe"
)

func addressCmd(addr string) string {
	cmd := `{ ip -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1; } || hostname -I | tr ' ' '\n'`
	if net.ParseIP(addr) == nil {
		cmd += `; getent ahosts ` + engine.Quote(addr) + ` | awk '{print "resolved " $1}'`
	}
	return cmd
}

func (c *hostCheck) address(addr string) (string, string, error) {
	if addr == "" {
		return "no address to check", "", nil
	}
	isIP := net.ParseIP(addr) != nil
	out, err := c.sh(addressCmd(addr))
	if err != nil {
		return "", "", fmt.Errorf("list the host's addresses: %w", err)
	}
	own := map[string]bool{}
	var owned, resolved []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		l = strings.TrimSpace(l)
		if r, ok := strings.CutPrefix(l, "resolved "); ok {
			resolved = append(resolved, r)
		} else if l != "" && !own[l] {
			own[l] = true
			owned = append(owned, l)
		}
	}
	want := []string{addr}
	if !isIP {
		want = resolved
	}
	for _, a := range want {
		if own[a] {
			return addr + " is the host's own", "", nil
		}
	}
	fix := "put the host's own address in the inventory: the other hosts and nginx reach it there, and memcached listens on it (behind NAT or a port forward, --skip-preflight address)"
	return "", fix, fmt.Errorf("%s is not an address of this host (it has %s): a typo, or the host is reached through NAT or a forward", addr, strings.Join(owned, ", "))
}

func portsCmd(ports []Port) string {
	var script strings.Builder
	for _, p := range ports {
		// The holder's unit is read from its cgroup, so a Tomcat started by
		// hand is told apart from the tomcat.service apply manages.
		fmt.Fprintf(&script, `l=$(ss -Htlnp 'sport = :%d' 2>/dev/null | head -1); if [ -z "$l" ]; then echo "%d free"; else `+
			`pid=$(printf '%%s' "$l" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2); `+
			`u=$(grep -o '[^/]*\.service' /proc/$pid/cgroup 2>/dev/null | tail -1); echo "%d held ${pid:-?} $(cat /proc/$pid/comm 2>/dev/null || echo '?') ${u:--}"; fi; `,
			p.Port, p.Port, p.Port)
	}
	return script.String()
}

func (c *hostCheck) ports(ports []Port) (string, string, error) {
	if len(ports) == 0 {
		return "no ports", "", nil
	}
	out, err := c.sh(portsCmd(ports))
	if err != nil {
		return "", "", fmt.Errorf("list listening sockets: %w", err)
	}
	held := map[int][]string{} // port -> pid, comm, unit
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 5 && f[1] == "held" {
			n, _ := strconv.Atoi(f[0])
			held[n] = f[2:]
		}
	}
	var bad, ok []string
	for _, p := range ports {
		h, taken := held[p.Port]
		switch {
		case !taken:
			ok = append(ok, fmt.Sprintf("%d free", p.Port))
		case h[2] == p.Unit:
			ok = append(ok, fmt.Sprintf("%d held by %s", p.Port, p.Unit))
		default:
			by := fmt.Sprintf("pid %s (%s)", h[0], h[1])
			if h[2] != "-" {
				by += " of " + h[2]
			}
			bad = append(bad, fmt.Sprintf("port %d (%s) is held by %s, not by %s", p.Port, p.What, by, p.Unit))
		}
	}
	if len(bad) > 0 {
		return "", "stop and disable what holds the port, or change the port in the inventory",
			fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return strings.Join(ok, ", "), "", nil
}

func (c *hostCheck) conflicts(cs []Conflict) (string, string, error) {
	if len(cs) == 0 {
		return "none to look for", "", nil
	}
	names := make([]string, len(cs))
	for i, cf := range cs {
		names[i] = cf.Package
	}
	installed, err := engine.InstalledPackages(probe.ReadOnly(c.ctx), c.h, names)
	if err != nil {
		return "", "", err
	}
	var bad []string
	for _, cf := range cs {
		if installed[cf.Package] {
			bad = append(bad, fmt.Sprintf("package %s is installed (%s)", cf.Package, cf.Why))
		}
	}
	if len(bad) > 0 {
		return "", "remove it (clusterctl installs its own), or --skip-preflight conflicts if it is stopped for good",
			fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return "none of " + strings.Join(names, ", "), "", nil
}

func diskCmd(ds []Disk) string {
	var script strings.Builder
	for _, d := range ds {
		// The margin is held on every file system the artifacts live on,
		// present or not: a full disk stops Tomcat's logs all the same.
		fmt.Fprintf(&script, `s=missing; [ -n %s ] && [ -e %s ] && s=present; p=%s; while [ ! -e "$p" ]; do p=$(dirname "$p"); done; df -Pk "$p" | awk -v s=$s 'NR==2 {print s, $6, $4}'; `,
			engine.Quote(d.Present), engine.Quote(d.Present), engine.Quote(d.Path))
	}
	return script.String()
}

func (c *hostCheck) disk(ds []Disk) (string, string, error) {
	if len(ds) == 0 {
		return "nothing to put on the host", "", nil
	}
	out, err := c.sh(diskCmd(ds))
	if err != nil {
		return "", "", fmt.Errorf("read free space: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(ds) {
		return "", "", fmt.Errorf("read free space: %d answers for %d paths: %q", len(lines), len(ds), out)
	}
	type mount struct {
		avail, need int64
		what        []string
	}
	mounts := map[string]*mount{}
	var order []string
	for i, d := range ds {
		f := strings.Fields(lines[i])
		if len(f) != 3 {
			return "", "", fmt.Errorf("read free space under %s: %q", d.Path, lines[i])
		}
		kb, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return "", "", fmt.Errorf("read free space under %s: %q", d.Path, lines[i])
		}
		m := mounts[f[1]]
		if m == nil {
			m = &mount{avail: kb * 1024}
			mounts[f[1]] = m
			order = append(order, f[1])
		}
		if f[0] == "present" {
			continue
		}
		n, err := d.Bytes()
		if err != nil {
			return "", "", fmt.Errorf("size of %s: %w", d.What, err)
		}
		m.need += n
		m.what = append(m.what, d.What)
	}
	margin := c.opts.MinFreeMB << 20
	var bad, ok []string
	for _, mp := range order {
		m := mounts[mp]
		line := fmt.Sprintf("%s: %s free, must keep %d MiB free", mp, mib(m.avail), c.opts.MinFreeMB)
		if len(m.what) > 0 {
			line = fmt.Sprintf("%s: %s free, needs %s for %s and must keep %d MiB free", mp, mib(m.avail), mib(m.need), strings.Join(m.what, ", "), c.opts.MinFreeMB)
		}
		if m.avail < m.need+margin {
			bad = append(bad, line)
		} else {
			ok = append(ok, line)
		}
	}
	if len(bad) > 0 {
		return "", "free space on that file system (or lower the margin with CLUSTERCTL_PREFLIGHT_MIN_FREE_MB if you know better)",
			fmt.Errorf("not enough free space: %s", strings.Join(bad, "; "))
	}
	return strings.Join(ok, "; "), "", nil
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

func (c *hostCheck) packageLock() (string, string, error) {
	cmd, err := engine.PackageLockCmd(c.h.Facts)
	if err != nil {
		return "", "", err
	}
	t0 := time.Now()
	for {
		out, err := c.sh(cmd)
		if err != nil {
			return "", "", fmt.Errorf("read the package manager's locks: %w", err)
		}
		holders := strings.TrimSpace(out)
		if holders == "" {
			if w := time.Since(t0); w > time.Second {
				return fmt.Sprintf("free (after waiting %s)", w.Round(time.Second)), "", nil
			}
			return "free", "", nil
		}
		if time.Since(t0) >= c.opts.LockWait {
			var by []string
			for _, l := range strings.Split(holders, "\n") {
				if f := strings.Fields(l); len(f) == 3 {
					by = append(by, fmt.Sprintf("pid %s (%s) holds %s", f[0], f[1], f[2]))
				}
			}
			return "", "wait for it to finish (unattended-upgrades often runs after boot) or stop it, then run again",
				fmt.Errorf("the package manager is busy after %s: %s", c.opts.LockWait, strings.Join(by, "; "))
		}
		select {
		case <-c.ctx.Done():
			return "", "", c.ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// clockReading is one host's clock against ours, measured over one round
// trip (the remote time is taken as read at its midpoint).
type clockReading struct {
	host   string
	offset time.Duration
	rtt    time.Duration
	err    error
	ok     bool
}

func readClock(ctx context.Context, h *engine.Host) clockReading {
	t0 := time.Now()
	// Read-only, never batched: the reading is timed by its own round trip.
	res, err := h.Conn.Run(probe.ReadOnly(ctx), "date +%s%N")
	t1 := time.Now()
	r := clockReading{host: h.Name(), rtt: t1.Sub(t0)}
	if err == nil && !res.OK() {
		err = fmt.Errorf("date: exit %d", res.ExitCode)
	}
	if err != nil {
		r.err = err
		return r
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(res.Stdout), 10, 64)
	if err != nil {
		r.err = fmt.Errorf("date: %q", res.Stdout)
		return r
	}
	mid := t0.Add(r.rtt / 2)
	r.offset, r.ok = time.Unix(0, ns).Sub(mid), true
	return r
}

// compareClocks holds every host to the median: the one host whose clock
// is off is named, not all the others.
func compareClocks(rs []clockReading, max time.Duration) []Result {
	var offs []time.Duration
	for _, r := range rs {
		if r.ok {
			offs = append(offs, r.offset)
		}
	}
	if len(offs) == 0 {
		return nil
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	median := offs[len(offs)/2]
	var out []Result
	for _, r := range rs {
		switch {
		case r.err != nil:
			out = append(out, Result{Host: r.host, Check: CheckClock, Status: StatusFailed, Found: "cannot read the clock: " + r.err.Error(), Fix: "check that date(1) works on the host"})
		case !r.ok:
		default:
			d := r.offset - median
			rel := "ahead of"
			if d < 0 {
				rel, d = "behind", -d
			}
			found := fmt.Sprintf("%s %s the other hosts (±%s)", d.Round(time.Millisecond), rel, (r.rtt / 2).Round(time.Millisecond))
			if d > max {
				out = append(out, Result{Host: r.host, Check: CheckClock, Status: StatusFailed, Found: found + ", more than " + max.String(),
					Fix: "synchronise the clock (chronyc makestep, or timedatectl set-ntp true); apply then keeps it in sync through cluster.ntp_servers"})
			} else {
				out = append(out, Result{Host: r.host, Check: CheckClock, Status: StatusOK, Found: found})
			}
		}
	}
	return out
}

// ReserveMB is the memory kept for everything but the sized services: the
// system, and the JVM beyond its heap (metaspace, code cache, thread
// stacks), which a 2 GiB heap takes a few hundred MiB for.
const ReserveMB = 384

// memoryCmd reads the host's memory; MemTotal is what a container or VM
// was given (cgroup limits aside).
const memoryCmd = "grep '^MemTotal:' /proc/meminfo"

func (c *hostCheck) memory(ms []Memory) (string, string, error) {
	if len(ms) == 0 {
		return "no fixed sizes", "", nil
	}
	out, err := c.sh(memoryCmd)
	if err != nil {
		return "", "", fmt.Errorf("read the host's memory: %w", err)
	}
	f := strings.Fields(out)
	kb, perr := int64(0), error(nil)
	if len(f) >= 2 {
		kb, perr = strconv.ParseInt(f[1], 10, 64)
	}
	if len(f) < 2 || perr != nil {
		return "", "", fmt.Errorf("read the host's memory: %q", out)
	}
	total := kb * 1024
	need := int64(ReserveMB) << 20
	parts := make([]string, 0, len(ms)+1)
	for _, m := range ms {
		need += m.Bytes
		parts = append(parts, mib(m.Bytes)+" "+m.What)
	}
	parts = append(parts, fmt.Sprintf("%d MiB for the system and the JVM beyond its heap", ReserveMB))
	line := fmt.Sprintf("%s of %s: %s", mib(need), mib(total), strings.Join(parts, " + "))
	if need > total {
		return "", "lower tomcat.heap_mb (or -Xmx in tomcat.java_opts) or memcached.memory_mb, or give the host more memory",
			fmt.Errorf("needs %s", line)
	}
	return line, "", nil
}

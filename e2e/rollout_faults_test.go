//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/playbooks"
)

// The fault matrix: a rollout cut at each of its boundaries (after each
// drain, restart, ready, undrain, dump, restore) by each of SIGINT,
// SIGTERM, SIGHUP, SIGKILL and a dropped SSH connection, then the same
// command again. Under 20 client sessions of load throughout, with every
// proxy's upstreams sampled every 100 ms: no upstream may ever lack a
// serving Tomcat, the rerun must exit 0 and leave the cluster whole, and
// users must see 0 failed requests, 0 lost sessions, 0 stale answers.
//
// CI runs a diagonal of the matrix (every boundary once, the faults taken
// in turn, so every fault hits several boundaries); CLUSTERCTL_E2E_FAULTS=all
// runs every cell (make e2e-faults, about 40 minutes).

var faults = []string{"SIGINT", "SIGTERM", "SIGHUP", "SIGKILL", "drop"}

// boundary is an NDJSON step event that ends one part of a rollout.
type boundary struct{ host, step, status string }

func (b boundary) String() string { return b.step + "@" + b.host }

func tomcatBoundaries() []boundary {
	var out []boundary
	for _, t := range []string{"t58", "t68"} {
		out = append(out,
			boundary{"proxy", "drain " + t, "changed"},
			boundary{t, "restart tomcat", "changed"},
			boundary{t, "tomcat ready", "ok"},
			boundary{"proxy", "undrain " + t, "changed"})
	}
	return out
}

func memcachedBoundaries() []boundary {
	var out []boundary
	for _, m := range []string{"t58", "t68"} {
		out = append(out,
			boundary{m, "dump memcached's keys", "changed"},
			boundary{m, "restart memcached", "changed"},
			boundary{m, "restore memcached's keys", "changed"})
	}
	return out
}

type cell struct {
	b     boundary
	fault string
}

func matrixCells(bs []boundary, offset int) []cell {
	var out []cell
	all := os.Getenv("CLUSTERCTL_E2E_FAULTS") == "all"
	for i, b := range bs {
		for j, f := range faults {
			if all || j == (i+offset)%len(faults) {
				out = append(out, cell{b, f})
			}
		}
	}
	return out
}

func TestRestartTomcatFaultMatrix(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	runMatrix(t, matrixCells(tomcatBoundaries(), 0), func(int) []string {
		return []string{"-i", testLab.Inventory, "restart", "tomcat", "-o", "json"}
	})
}

func TestMemcachedApplyFaultMatrix(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	// Each cell changes memory_mb, so each apply has memcached restarts to
	// roll; the rerun uses the same inventory and finishes them.
	invs := []string{
		variantInventory(t, "faults-mem-a", "memory_mb: 64", "memory_mb: 72"),
		variantInventory(t, "faults-mem-b", "memory_mb: 64", "memory_mb: 80"),
	}
	runMatrix(t, matrixCells(memcachedBoundaries(), 2), func(i int) []string {
		return []string{"-i", invs[i%2], "apply", "-o", "json"}
	})
	if res := RunApply(t); res.ExitCode != 0 {
		t.Fatalf("apply of the lab inventory after the matrix: exit %d", res.ExitCode)
	}
}

type cellResult struct {
	cell
	hit        bool
	firstExit  int
	rerunExit  int
	rep        loadgen.Report
	violations []string
}

func runMatrix(t *testing.T, cells []cell, args func(i int) []string) {
	var results []cellResult
	for i, c := range cells {
		r := runCell(t, c, args(i))
		results = append(results, r)
		if t.Failed() {
			break
		}
	}
	t.Logf("fault matrix (boundary x fault -> failed / lost / stale; first run's exit; rerun's exit):")
	for _, r := range results {
		t.Logf("  %-32s %-8s -> %d / %d / %d   first exit %d, rerun exit %d, %d requests%s",
			r.b, r.fault, r.rep.Failed, r.rep.Lost, r.rep.Stale, r.firstExit, r.rerunExit, r.rep.Requests, map[bool]string{false: " (boundary never reached)"}[r.hit])
	}
}

func runCell(t *testing.T, c cell, args []string) cellResult {
	t.Helper()
	res := cellResult{cell: c}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sampler := startUpstreamSampler(t, ctx)
	l := startLoad(t)
	time.Sleep(500 * time.Millisecond)

	cmd := exec.Command(clusterctlBin(t), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !res.hit && isBoundary(sc.Text(), c.b) {
			res.hit = true
			inject(t, cmd, c)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(4 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Errorf("%s %s: the first run did not end within 4 minutes", c.b, c.fault)
	}
	res.firstExit = cmd.ProcessState.ExitCode()
	if !res.hit {
		t.Errorf("%s: the rollout never reached this boundary:\n%s", c.b, lastLines(strings.Join(lines, "\n"), 15))
	}
	if c.fault != "SIGKILL" && c.fault != "drop" && res.hit && res.firstExit == 0 && !strings.Contains(stderr.String(), "safe point") {
		t.Errorf("%s %s: the signal was not taken (exit 0, nothing on stderr)", c.b, c.fault)
	}

	rerun := runCmd(t, exec.Command(clusterctlBin(t), args...))
	res.rerunExit = rerun.ExitCode
	time.Sleep(time.Second)
	res.rep = l.Stop()
	cancel()
	res.violations = sampler.wait()

	name := c.b.String() + " " + c.fault
	if rerun.ExitCode != 0 {
		t.Errorf("%s: the rerun exited %d:\n%s\n%s", name, rerun.ExitCode, strings.Join(rerun.Failures(), "\n"), lastLines(rerun.Stdout+rerun.Stderr, 15))
	}
	if !res.rep.Clean() {
		t.Errorf("%s: users saw %s; samples %q", name, res.rep, res.rep.Samples)
	}
	for _, v := range res.violations {
		t.Errorf("%s: %s", name, v)
	}
	if ngx := RunOn(t, "proxy", "grep -c ' down;' /etc/nginx/nginx.conf; ls /var/lib/clusterctl/drained 2>/dev/null | wc -l"); strings.Fields(ngx)[0] != "0" || strings.Fields(ngx)[1] != "0" {
		t.Errorf("%s: a Tomcat is left drained after the rerun (down lines, markers: %s)", name, strings.Join(strings.Fields(ngx), ", "))
	}
	for _, h := range []string{"t58", "t68"} {
		if left := RunOn(t, h, "ls /var/lib/clusterctl/handover/ 2>/dev/null | wc -l"); strings.TrimSpace(left) != "0" {
			t.Errorf("%s: a hand-over dump is left on %s after the rerun", name, h)
		}
	}
	if !takeoverWorks(t) {
		t.Errorf("%s: after the rerun the Tomcats cannot take over each other's sessions", name)
	}
	return res
}

func isBoundary(line string, b boundary) bool {
	var ev struct{ Type, Host, Play, Step, Status string }
	if json.Unmarshal([]byte(line), &ev) != nil {
		return false
	}
	return ev.Type == "step" && ev.Play == "rollout" && ev.Host == b.host && ev.Step == b.step && ev.Status == b.status
}

// inject delivers the fault right at the boundary.
func inject(t *testing.T, cmd *exec.Cmd, c cell) {
	switch c.fault {
	case "SIGINT":
		cmd.Process.Signal(os.Interrupt)
	case "SIGTERM":
		cmd.Process.Signal(syscall.SIGTERM)
	case "SIGHUP":
		cmd.Process.Signal(syscall.SIGHUP)
	case "SIGKILL":
		cmd.Process.Kill()
	case "drop":
		// Kill the sshd processes of every other SSH session on the host:
		// clusterctl's connection ends as a dropped link would, and its
		// transport redials (or its step fails, and the rerun repairs it).
		TryRunOn(c.b.host, `me=$PPID; while [ "$me" -gt 1 ]; do case "$(cat /proc/$me/comm)" in sshd|sshd-session) break;; esac; me=$(cut -d' ' -f4 /proc/$me/stat); done
for p in $(pgrep -f '^sshd(-session)?: '); do [ "$p" != "$me" ] && [ -n "$(ps -o args= -p $p | grep -v listener)" ] && kill -9 "$p"; done; true`)
	}
}

// upstreamSampler reads the proxy's nginx.conf straight from its
// container's root every 100 ms and asks each Tomcat on its own port
// whether it answers: a sample where some upstream has no member that is
// up in the file and answering is a moment users had no Tomcat.
type upstreamSampler struct {
	wg         sync.WaitGroup
	mu         sync.Mutex
	samples    int
	violations []string
}

func startUpstreamSampler(t *testing.T, ctx context.Context) *upstreamSampler {
	t.Helper()
	root := containerRoot(t, "proxy")
	addrs := map[string]string{hostAddr(t, "t58") + ":8080": "t58", hostAddr(t, "t68") + ":8080": "t68"}
	s := &upstreamSampler{}
	var amu sync.Mutex
	// A Tomcat counts as not answering after two failed probes in a row:
	// one probe timing out while the machine is busy (seen once in 70
	// cells, with 0 failed user requests) says nothing about the Tomcat.
	answering, seenOK, failedOnce := map[string]bool{}, map[string]bool{}, map[string]bool{}
	client := &http.Client{Timeout: 800 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: (&net.Dialer{Timeout: 500 * time.Millisecond}).DialContext}}
	for a := range addrs {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for ctx.Err() == nil {
				resp, err := client.Get("http://" + a + "/")
				ok := err == nil && resp.StatusCode < 500
				if err == nil {
					resp.Body.Close()
				}
				amu.Lock()
				answering[a] = ok || !failedOnce[a]
				failedOnce[a] = !ok
				if ok {
					seenOK[a] = true
				}
				amu.Unlock()
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Sample once every Tomcat has answered once: a Tomcat a test
		// before restarted may take its first requests slowly.
		for t0 := time.Now(); time.Since(t0) < 30*time.Second; time.Sleep(50 * time.Millisecond) {
			amu.Lock()
			n := len(seenOK)
			amu.Unlock()
			if n == len(addrs) {
				break
			}
		}
		for ctx.Err() == nil {
			b, err := os.ReadFile(root + "/etc/nginx/nginx.conf")
			ups, perr := playbooks.ParseUpstreams(b)
			s.mu.Lock()
			s.samples++
			if err != nil || perr != nil {
				s.violations = append(s.violations, fmt.Sprintf("%s: cannot read nginx.conf: %v %v", time.Now().Format("15:04:05.000"), err, perr))
			}
			amu.Lock()
			for name, servers := range ups {
				serving := false
				for _, sv := range servers {
					a := sv.Address + ":" + strconv.Itoa(sv.Port)
					serving = serving || !sv.Down && answering[a]
				}
				if !serving && len(s.violations) < 20 {
					s.violations = append(s.violations, fmt.Sprintf("%s: upstream %s had no serving member (answering: %v)", time.Now().Format("15:04:05.000"), name, answering))
				}
			}
			amu.Unlock()
			s.mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return s
}

func (s *upstreamSampler) wait() []string {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.samples < 10 {
		return append(s.violations, fmt.Sprintf("only %d samples of the upstreams were taken", s.samples))
	}
	return s.violations
}

// containerRoot is a lab host's root directory as this machine sees it:
// that of the container's init, the child of its systemd-nspawn.
func containerRoot(t *testing.T, name string) string {
	t.Helper()
	h, err := testLab.Host(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", h.PID, h.PID))
	if err != nil || len(strings.Fields(string(b))) == 0 {
		t.Fatalf("%s: the container's init (child of nspawn %d): %v", name, h.PID, err)
	}
	return "/proc/" + strings.Fields(string(b))[0] + "/root"
}

//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers for running the real clusterctl binary against the lab, shared
// with the verify and teardown tests.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// clusterctlBin builds cmd/clusterctl once per test run into a temp dir.
func clusterctlBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clusterctl-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "clusterctl")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/clusterctl")
		cmd.Dir = ".." // the module root; go test runs in e2e/
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// StepEvent is one `-o json` step or handler event.
type StepEvent struct {
	Type       string `json:"type"`
	Host       string `json:"host"`
	Play       string `json:"play"`
	Step       string `json:"step"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Summary    string `json:"summary"`
	Error      string `json:"error"`
	DryRun     bool   `json:"dry_run"`
	Diff       string `json:"diff"`
}

// HostCounts is one row of the recap's per_host.
type HostCounts struct {
	Host    string `json:"host"`
	Status  string `json:"status"`
	OK      int    `json:"ok"`
	Changed int    `json:"changed"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	Error   string `json:"error"`
}

// RunResult is what one `clusterctl apply -o json` run reported.
type RunResult struct {
	ExitCode int
	Wall     time.Duration
	Steps    []StepEvent // step and handler events, in order
	PerHost  []HostCounts
	// Sessions is, per host, the SSH session channels the run opened
	// (its "ssh_sessions" lines: counted on the client side).
	Sessions map[string]int64
	Stdout   string // the NDJSON itself, for events parseEvents does not keep (rollout, load)
	Stderr   string
}

// Changed lists "host play: step (summary)" for every changed event.
func (r RunResult) Changed() []string {
	var out []string
	for _, e := range r.Steps {
		if e.Status == "changed" {
			out = append(out, e.Host+" "+e.Play+": "+e.Step+" ("+e.Summary+")")
		}
	}
	return out
}

// Failures lists the failed events with their errors.
func (r RunResult) Failures() []string {
	var out []string
	for _, e := range r.Steps {
		if e.Status == "failed" {
			out = append(out, e.Host+" "+e.Play+": "+e.Step+": "+e.Error)
		}
	}
	for _, h := range r.PerHost {
		if h.Error != "" {
			out = append(out, h.Host+": "+h.Error)
		}
	}
	return out
}

// parseEvents reads NDJSON events; a line that is not JSON fails the test.
func parseEvents(t testing.TB, out []byte, res *RunResult) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var head struct {
			Type     string       `json:"type"`
			PerHost  []HostCounts `json:"per_host"`
			Host     string       `json:"host"`
			Sessions int64        `json:"sessions"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			t.Fatalf("apply -o json: not JSON: %q", line)
		}
		switch head.Type {
		case "step", "handler":
			var e StepEvent
			json.Unmarshal(line, &e)
			res.Steps = append(res.Steps, e)
		case "recap":
			res.PerHost = head.PerHost
		case "ssh_sessions":
			if res.Sessions == nil {
				res.Sessions = map[string]int64{}
			}
			res.Sessions[head.Host] = head.Sessions
		}
	}
}

// labCmd is `clusterctl -i <lab inventory> <verb> -o json <args>`.
func labCmd(t testing.TB, verb string, args ...string) *exec.Cmd {
	return invCmd(t, testLab.Inventory, verb, args...)
}

// invCmd is labCmd with another inventory (a variant of the lab's).
func invCmd(t testing.TB, inv, verb string, args ...string) *exec.Cmd {
	return exec.Command(clusterctlBin(t), append([]string{"-i", inv, verb, "-o", "json"}, args...)...)
}

// applyCmd is `clusterctl -i <lab inventory> apply -o json <args>`.
func applyCmd(t testing.TB, args ...string) *exec.Cmd { return labCmd(t, "apply", args...) }

// RunLab runs a converging verb (apply, teardown) with args and returns what
// it reported, whatever its exit code.
func RunLab(t testing.TB, verb string, args ...string) RunResult {
	t.Helper()
	return runCmd(t, labCmd(t, verb, args...))
}

// runCmd runs a clusterctl command built by labCmd or invCmd.
func runCmd(t testing.TB, cmd *exec.Cmd) RunResult {
	t.Helper()
	verb := cmd.Args[3]
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := RunResult{Wall: time.Since(start), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	case err != nil:
		t.Fatalf("clusterctl %s: %v", verb, err)
	}
	parseEvents(t, stdout.Bytes(), &res)
	res.Stdout = stdout.String()
	return res
}

// RunApply runs apply with args and returns what it reported, whatever
// its exit code.
func RunApply(t testing.TB, args ...string) RunResult {
	t.Helper()
	return RunLab(t, "apply", args...)
}

// ensureApplied converges the lab with `clusterctl apply` and fails the
// test unless it exits 0. Cheap when the lab is already converged (a no-op
// apply), so any test may call it first.
func ensureApplied(t testing.TB) RunResult {
	t.Helper()
	res := RunApply(t)
	if res.ExitCode != 0 {
		t.Fatalf("clusterctl apply exited %d after %s:\n%s\nstderr: %s", res.ExitCode, res.Wall.Round(time.Millisecond),
			strings.Join(res.Failures(), "\n"), lastLines(res.Stderr, 20))
	}
	return res
}

// lastLines keeps the tail of a long output for a failure message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

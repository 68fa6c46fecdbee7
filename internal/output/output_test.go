package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// runEvents is a small run, as the engine would emit it: t58 changes a
// block (with diff), proxy fails, t68 changes nothing.
func runEvents(dryRun bool) []engine.Event {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	recap := engine.Recap{DryRun: dryRun, Elapsed: 2500 * time.Millisecond, Hosts: []engine.HostRecap{
		{Host: "t58", OK: 3, Changed: 2, Elapsed: 1200 * time.Millisecond},
		{Host: "proxy", OK: 1, Failed: 1, Elapsed: 300 * time.Millisecond, Err: errors.New("validate /etc/nginx/nginx.conf: exit 1: bad directive")},
		{Host: "t68", OK: 5, Skipped: 1, Elapsed: 900 * time.Millisecond},
	}}
	return []engine.Event{
		{Type: engine.EventRunStart, Time: at, Hosts: []string{"t58", "proxy", "t68"}, Plays: []string{"base", "tomcat"}, DryRun: dryRun},
		{Type: engine.EventHostStart, Time: at, Host: "t58"},
		{Type: engine.EventStep, Time: at, Host: "t58", Play: "base", Step: "write /etc/hosts block", Status: engine.StatusChanged,
			Duration: 120 * time.Millisecond, Summary: "update /etc/hosts (+1 -0 lines)", DryRun: dryRun,
			Diff: "--- a/etc/hosts\n+++ b/etc/hosts\n@@ -1 +1,2 @@\n 127.0.0.1 localhost\n+10.0.0.58 t58\n"},
		{Type: engine.EventHandler, Time: at, Host: "t58", Play: "tomcat", Step: "restart tomcat", Status: engine.StatusChanged, Duration: 2 * time.Second, Summary: "systemctl restart tomcat", DryRun: dryRun},
		{Type: engine.EventStep, Time: at, Host: "proxy", Play: "base", Step: "nginx.conf", Status: engine.StatusFailed, Duration: 30 * time.Millisecond, Err: recap.Hosts[1].Err},
		{Type: engine.EventStep, Time: at, Host: "t68", Play: "base", Step: "packages memcached", Status: engine.StatusOK, Duration: 10 * time.Millisecond},
		{Type: engine.EventStep, Time: at, Host: "t68", Play: "base", Step: "only on rhel", Status: engine.StatusSkipped, Summary: "debian host"},
		{Type: engine.EventHostDone, Time: at, Host: "t58", HostRecap: &recap.Hosts[0]},
		{Type: engine.EventHostDone, Time: at, Host: "proxy", HostRecap: &recap.Hosts[1], Err: recap.Hosts[1].Err},
		{Type: engine.EventRunRecap, Time: at, Recap: &recap, DryRun: dryRun},
	}
}

func render(sink engine.EventSink, evs []engine.Event) {
	for _, e := range evs {
		sink.Emit(e)
	}
}

func TestTextLinesAndRecap(t *testing.T) {
	var buf bytes.Buffer
	render(NewText(&buf, false, false, false), runEvents(false))
	want := `t58    base    write /etc/hosts block                changed  0.12s  update /etc/hosts (+1 -0 lines)
--- a/etc/hosts
+++ b/etc/hosts
@@ -1 +1,2 @@
 127.0.0.1 localhost
+10.0.0.58 t58
t58    tomcat  handler: restart tomcat               changed  2.00s  systemctl restart tomcat
proxy  base    nginx.conf                            failed   0.03s  error: validate /etc/nginx/nginx.conf: exit 1: bad directive
t68    base    only on rhel                          skipped  0.00s  debian host

host      ok  changed  failed  skipped      time
t58        3        2       0        0     1.20s
proxy      1        0       1        0     0.30s  error: validate /etc/nginx/nginx.conf: exit 1: bad directive
t68        5        0       0        1     0.90s
3 hosts: 1 failed, 2 changed
`
	if got := buf.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTextVerboseDryRunAndColor(t *testing.T) {
	var buf bytes.Buffer
	render(NewText(&buf, true, true, false), runEvents(true))
	out := buf.String()
	for _, want := range []string{
		"dry run: nothing will be changed\n",
		"t58    start\n",
		"update /etc/hosts (+1 -0 lines) (dry run)",
		"only on rhel                          \x1b[36mskipped\x1b[0m  0.00s  debian host\n",
		"packages memcached                    \x1b[32mok     \x1b[0m  0.01s\n",
		"\x1b[32m+10.0.0.58 t58\x1b[0m\n",
		"proxy  failed  0.30s  validate",
		"2 would change (dry run)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	var plain bytes.Buffer
	render(NewText(&plain, true, false, false), runEvents(true))
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("color off but escape codes written")
	}
}

func TestFinalLine(t *testing.T) {
	tests := []struct {
		r    engine.Recap
		want string
	}{
		{engine.Recap{Hosts: []engine.HostRecap{{Host: "a", OK: 4}, {Host: "b", OK: 4}, {Host: "c", OK: 4}}}, "3 hosts: 0 failed, no changes"},
		{engine.Recap{Hosts: []engine.HostRecap{{Host: "a", Changed: 5}}}, "1 host: 0 failed, 5 changed"},
		{engine.Recap{DryRun: true, Hosts: []engine.HostRecap{{Host: "a", Changed: 5}}}, "1 host: 0 failed, 5 would change (dry run)"},
		{engine.Recap{Hosts: []engine.HostRecap{{Host: "a", Changed: 1}, {Host: "b", Unfinished: true, Err: errors.New("context canceled")}}}, "2 hosts: 0 failed, 1 interrupted, 1 changed"},
	}
	for _, tc := range tests {
		if got := FinalLine(tc.r); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

// lineWriter fails the test when a Write is not whole lines: that is what
// lets concurrent hosts share a terminal without garbling each other.
type lineWriter struct {
	mu     sync.Mutex
	t      *testing.T
	writes int
	buf    bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) == 0 || p[len(p)-1] != '\n' {
		w.t.Errorf("partial line written: %q", p)
	}
	w.writes++
	return w.buf.Write(p)
}

func emitConcurrently(sink engine.EventSink, hosts, steps int) {
	var wg sync.WaitGroup
	for h := 0; h < hosts; h++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 0; s < steps; s++ {
				sink.Emit(engine.Event{Type: engine.EventStep, Host: fmt.Sprintf("h%02d", h), Play: "p", Step: fmt.Sprintf("step %d", s),
					Status: engine.StatusChanged, Summary: "x", Diff: "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"})
			}
		}()
	}
	wg.Wait()
}

func TestTextConcurrentHostsDoNotInterleave(t *testing.T) {
	w := &lineWriter{t: t}
	emitConcurrently(NewText(w, false, false, false), 16, 40)
	sc := bufio.NewScanner(&w.buf)
	steps := 0
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "h") {
			steps++
			if !strings.Contains(l, "changed") {
				t.Fatalf("mangled line %q", l)
			}
		}
	}
	if steps != 16*40 {
		t.Fatalf("%d step lines, want %d", steps, 16*40)
	}
}

func TestJSONEveryLineParsesAndRecapHasCounts(t *testing.T) {
	var buf bytes.Buffer
	render(NewJSON(&buf), runEvents(false))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(runEvents(false)) {
		t.Fatalf("%d lines for %d events", len(lines), len(runEvents(false)))
	}
	var objs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if _, ok := m["type"].(string); !ok {
			t.Fatalf("no type in %q", l)
		}
		objs = append(objs, m)
	}

	step := objs[2]
	for k, want := range map[string]any{"type": "step", "host": "t58", "play": "base", "step": "write /etc/hosts block",
		"status": "changed", "duration_ms": 120.0, "summary": "update /etc/hosts (+1 -0 lines)", "dry_run": false} {
		if step[k] != want {
			t.Errorf("step.%s = %v, want %v", k, step[k], want)
		}
	}
	if !strings.HasPrefix(step["diff"].(string), "--- a/etc/hosts\n") {
		t.Errorf("diff %q", step["diff"])
	}
	if objs[4]["error"] != "validate /etc/nginx/nginx.conf: exit 1: bad directive" {
		t.Errorf("failed step error %v", objs[4]["error"])
	}
	if objs[8]["type"] != "host_done" || objs[8]["status"] != "failed" || objs[8]["failed"] != 1.0 {
		t.Errorf("host_done %v", objs[8])
	}

	var recap struct {
		Type        string `json:"type"`
		HostsTotal  int    `json:"hosts_total"`
		HostsFailed int    `json:"hosts_failed"`
		OK          int    `json:"ok"`
		Changed     int    `json:"changed"`
		Failed      int    `json:"failed"`
		Skipped     int    `json:"skipped"`
		Summary     string `json:"summary"`
		PerHost     []struct {
			Host    string `json:"host"`
			Status  string `json:"status"`
			OK      int    `json:"ok"`
			Changed int    `json:"changed"`
			Failed  int    `json:"failed"`
			Skipped int    `json:"skipped"`
			Error   string `json:"error"`
		} `json:"per_host"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &recap); err != nil {
		t.Fatal(err)
	}
	if recap.Type != "recap" || recap.HostsTotal != 3 || recap.HostsFailed != 1 || recap.OK != 9 || recap.Changed != 2 ||
		recap.Failed != 1 || recap.Skipped != 1 || recap.Summary != "3 hosts: 1 failed, 2 changed" {
		t.Fatalf("recap %+v", recap)
	}
	if len(recap.PerHost) != 3 || recap.PerHost[0].Host != "t58" || recap.PerHost[0].Changed != 2 ||
		recap.PerHost[1].Status != "failed" || recap.PerHost[1].Error == "" || recap.PerHost[2].Skipped != 1 {
		t.Fatalf("per host %+v", recap.PerHost)
	}
}

func TestJSONConcurrentLinesParse(t *testing.T) {
	w := &lineWriter{t: t}
	emitConcurrently(NewJSON(w), 16, 40)
	sc := bufio.NewScanner(&w.buf)
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n != 16*40 || w.writes != n {
		t.Fatalf("%d lines in %d writes, want %d", n, w.writes, 16*40)
	}
}

// Running steps show as one combined line: off a terminal only on a
// progress tick (a quick step prints nothing), on a terminal rewritten in
// place and cleared before every step line, which it never splits.
func TestRunningStepsShowAsOneLine(t *testing.T) {
	start := func(h, step string) engine.Event {
		return engine.Event{Type: engine.EventStepStart, Host: h, Play: "java", Step: step}
	}
	tick := func(h, step string, d time.Duration, summary string) engine.Event {
		return engine.Event{Type: engine.EventStepProgress, Host: h, Play: "java", Step: step, Duration: d, Summary: summary}
	}
	done := func(h, step string) engine.Event {
		return engine.Event{Type: engine.EventStep, Host: h, Play: "java", Step: step, Status: engine.StatusChanged, Summary: "done"}
	}
	events := []engine.Event{
		start("t58", "quick"), done("t58", "quick"),
		start("t58", "upload jdk.tar.gz"), start("t68", "tomcat ready"),
		tick("t58", "upload jdk.tar.gz", 5*time.Second, "37 of 145 MiB uploaded, 25%"), tick("t68", "tomcat ready", 5*time.Second, "up to 2m0s"),
		done("t58", "upload jdk.tar.gz"), done("t68", "tomcat ready"),
	}
	var plain bytes.Buffer
	render(NewText(&plain, false, false, false), events)
	want := "running: t58 upload jdk.tar.gz 5s (37 of 145 MiB uploaded, 25%)\n"
	if got := plain.String(); !strings.Contains(got, want) || strings.Count(got, "running:") != 1 || strings.Contains(got, "quick 0s") || strings.Contains(got, "\r") {
		t.Errorf("off a terminal:\n%s\nwant one combined line %q (the second tick within the interval is folded)", got, want)
	}
	var live bytes.Buffer
	render(NewText(&live, false, false, true), events)
	got := live.String()
	if !strings.Contains(got, "running: t58 upload jdk.tar.gz 5s (37 of 145 MiB uploaded, 25%); t68 tomcat ready 5s of 2m0s") {
		t.Errorf("on a terminal, no combined line of both hosts:\n%q", got)
	}
	for _, l := range strings.Split(got, "\n") {
		if strings.Contains(l, "changed") && strings.Contains(l, "running:") && !strings.Contains(l, "\r\x1b[K") {
			t.Errorf("a step line mixed into the live line: %q", l)
		}
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("the live line is left on the screen at the end: %q", got[max(0, len(got)-80):])
	}
}

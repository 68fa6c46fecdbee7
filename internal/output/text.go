package output

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// stepWidth pads step titles so statuses line up for typical titles;
// longer titles just push their line's status to the right.
const stepWidth = 36

// NewText renders one line per finished step, e.g.
//
//	t58  base  write /etc/hosts block   changed  0.12s  update /etc/hosts (+1 -0 lines)
//
// for every step that changed, failed or was skipped (with the reason),
// followed by its diff when present, and a recap table at the end. verbose
// adds the steps that were already in state and host start/finish lines;
// color adds ANSI colors to statuses and diff lines.
//
// Steps that run long show as one combined line of every host's running
// step ("running: t58 upload jdk.tar.gz 12s; t68 tomcat ready 10s of
// 2m0s"): live, rewritten in place, when live (a terminal), else printed at
// most once per engine.ProgressInterval. It never splits a step line.
func NewText(w io.Writer, verbose, color, live bool) engine.EventSink {
	return &textSink{w: w, verbose: verbose, color: color, live: live, running: map[string]engine.Event{}}
}

type textSink struct {
	mu                   sync.Mutex
	w                    io.Writer
	verbose, color, live bool
	hostW, playW         int

	running   map[string]engine.Event // host -> its step's latest start or progress
	shown     bool                    // the live line is on the screen
	lastShown time.Time               // the last combined line off a terminal
}

func (s *textSink) Emit(e engine.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	switch e.Type {
	case engine.EventStepStart, engine.EventStepProgress:
		s.running[e.Host] = e
		s.showRunning(e.Type == engine.EventStepProgress)
		return
	case engine.EventRunStart:
		for _, h := range e.Hosts {
			s.hostW = max(s.hostW, len(h))
		}
		for _, p := range e.Plays {
			s.playW = max(s.playW, len(p))
		}
		if e.DryRun {
			b.WriteString("dry run: nothing will be changed\n")
		}
		if s.verbose {
			fmt.Fprintf(&b, "converging %d hosts with %d plays: %s\n", len(e.Hosts), len(e.Plays), strings.Join(e.Plays, ", "))
		}
	case engine.EventHostStart:
		if s.verbose {
			fmt.Fprintf(&b, "%s  start\n", pad(e.Host, s.hostW))
		}
	case engine.EventStep, engine.EventHandler:
		delete(s.running, e.Host)
		// What was already in state is counted in the recap; its lines are
		// for -v. A skip stays visible: its reason is news ("nothing
		// recorded", "neither firewalld nor ufw is active").
		if s.verbose || e.Status != engine.StatusOK {
			s.stepLine(&b, e)
		}
	case engine.EventHostDone:
		if s.verbose && e.HostRecap != nil {
			fmt.Fprintf(&b, "%s  %s  %s", pad(e.Host, s.hostW), hostStatus(*e.HostRecap), seconds(e.HostRecap.Elapsed))
			if e.Err != nil {
				b.WriteString("  " + e.Err.Error())
			}
			b.WriteString("\n")
		}
	case engine.EventRunRecap:
		if e.Recap != nil {
			s.recap(&b, *e.Recap)
		}
	}
	if b.Len() > 0 {
		s.clearLive()
		io.WriteString(s.w, b.String()) // one write per event: lines never interleave
	}
	if s.live {
		s.showRunning(false)
	}
}

// showRunning writes the combined line of running steps: on a terminal
// in place, for any step; else only for a progress tick, and at most once
// per interval, so a quick step never prints one.
func (s *textSink) showRunning(tick bool) {
	line := s.runningLine()
	switch {
	case s.live:
		s.clearLive()
		if line != "" {
			io.WriteString(s.w, line)
			s.shown = true
		}
	case tick && line != "" && time.Since(s.lastShown) >= engine.ProgressInterval*9/10:
		io.WriteString(s.w, line+"\n")
		s.lastShown = time.Now()
	}
}

func (s *textSink) clearLive() {
	if s.shown {
		io.WriteString(s.w, "\r\x1b[K")
		s.shown = false
	}
}

// runningLine is "running: <host> <step> <time>[ of <bound>]; ..." for
// the steps that have run for a second or more, in host order.
func (s *textSink) runningLine() string {
	var parts []string
	for _, h := range sortedKeys(s.running) {
		e := s.running[h]
		if e.Type != engine.EventStepProgress {
			if !s.live {
				continue
			}
			parts = append(parts, h+" "+e.Step)
			continue
		}
		p := fmt.Sprintf("%s %s %s", h, e.Step, e.Duration.Round(time.Second))
		if bound, ok := strings.CutPrefix(e.Summary, "up to "); ok {
			p += " of " + bound
		} else if e.Summary != "" {
			p += " (" + e.Summary + ")"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	return "running: " + strings.Join(parts, "; ")
}

func sortedKeys(m map[string]engine.Event) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *textSink) stepLine(b *strings.Builder, e engine.Event) {
	title := e.Step
	if e.Type == engine.EventHandler {
		title = "handler: " + title
	}
	fmt.Fprintf(b, "%s  %s  %s  %s  %s", pad(e.Host, s.hostW), pad(e.Play, s.playW), pad(title, stepWidth),
		s.paint(string(e.Status), pad(string(e.Status), 7)), seconds(e.Duration))
	switch e.Status {
	case engine.StatusChanged:
		summary := e.Summary
		if e.DryRun && !strings.HasPrefix(summary, "would ") {
			summary = strings.TrimSpace(summary + " (dry run)")
		}
		if summary != "" {
			b.WriteString("  " + summary)
		}
	case engine.StatusFailed:
		b.WriteString("  " + s.paint("failed", "error: "+errString(e.Err)))
	case engine.StatusOK:
		if e.Summary != "" {
			b.WriteString("  " + e.Summary)
		}
	case engine.StatusSkipped:
		// The reason is what makes a skip readable ("neither firewalld nor
		// ufw is active"), so it is always shown.
		if e.Summary != "" {
			b.WriteString("  " + e.Summary)
		}
	}
	b.WriteString("\n")
	if e.Diff != "" {
		for _, l := range strings.SplitAfter(strings.TrimSuffix(e.Diff, "\n"), "\n") {
			b.WriteString(s.diffLine(strings.TrimSuffix(l, "\n")) + "\n")
		}
	}
}

func (s *textSink) recap(b *strings.Builder, r engine.Recap) {
	hostW := len("host")
	for _, h := range r.Hosts {
		hostW = max(hostW, len(h.Host))
	}
	b.WriteString("\n")
	fmt.Fprintf(b, "%s  %5s  %7s  %6s  %7s  %8s\n", pad("host", hostW), "ok", "changed", "failed", "skipped", "time")
	for _, h := range r.Hosts {
		fmt.Fprintf(b, "%s  %5d  %7d  %6d  %7d  %8s", pad(h.Host, hostW), h.OK, h.Changed, h.Failed, h.Skipped, seconds(h.Elapsed))
		switch {
		case h.Unfinished:
			b.WriteString("  " + s.paint("failed", "interrupted"))
		case h.Err != nil:
			b.WriteString("  " + s.paint("failed", "error: "+h.Err.Error()))
		}
		b.WriteString("\n")
	}
	line := FinalLine(r)
	switch {
	case r.Failed():
		line = s.paint("failed", line)
	case r.Totals().Changed > 0:
		line = s.paint("changed", line)
	default:
		line = s.paint("ok", line)
	}
	b.WriteString(line + "\n")
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// paint colors text by a status name; padding is done before painting so
// escape codes never disturb alignment.
func (s *textSink) paint(status, text string) string {
	if !s.color {
		return text
	}
	code := map[string]string{"ok": ansiGreen, "changed": ansiYellow, "failed": ansiRed, "skipped": ansiCyan}[status]
	if code == "" {
		return text
	}
	return code + text + ansiReset
}

func (s *textSink) diffLine(l string) string {
	switch {
	case !s.color || strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---"):
		return l
	case strings.HasPrefix(l, "+"):
		return ansiGreen + l + ansiReset
	case strings.HasPrefix(l, "-"):
		return ansiRed + l + ansiReset
	case strings.HasPrefix(l, "@@"):
		return ansiCyan + l + ansiReset
	}
	return l
}

func pad(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

package output

import (
	"fmt"
	"io"
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
func NewText(w io.Writer, verbose, color bool) engine.EventSink {
	return &textSink{w: w, verbose: verbose, color: color}
}

type textSink struct {
	mu             sync.Mutex
	w              io.Writer
	verbose, color bool
	hostW, playW   int
}

func (s *textSink) Emit(e engine.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	switch e.Type {
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
		io.WriteString(s.w, b.String()) // one write per event: lines never interleave
	}
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

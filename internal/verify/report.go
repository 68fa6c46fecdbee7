package verify

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// checkWidth pads check names so statuses line up, as apply's step titles.
const checkWidth = 30

// NewText renders one line per result, in apply's look:
//
//	t58      health  memcached listens               failed   0.02s  memcached listens only on 127.0.0.1:11211, ...
//
// and a final verdict line. color adds ANSI colors to statuses.
func NewText(w io.Writer, color bool) Sink {
	return &textSink{w: w, color: color, hostW: len(DrillHost)}
}

type textSink struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
	hostW int
}

func (s *textSink) Begin(hosts []string, drill bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hosts {
		s.hostW = max(s.hostW, len(h))
	}
	what := "health checks, then the failover drill (stops and restarts one memcached and one Tomcat)"
	if !drill {
		what = "health checks only (read-only; drill not run)"
	}
	fmt.Fprintf(s.w, "verifying %d hosts: %s\n", len(hosts), what)
}

func (s *textSink) Check(r Result) {
	line := fmt.Sprintf("%s  %s  %s  %s  %5.2fs", pad(r.Host, s.hostW), pad(r.Phase, 6), pad(r.Check, checkWidth),
		s.paint(r.Status, pad(string(r.Status), 7)), r.Latency.Seconds())
	if r.Reason != "" {
		line += "  " + r.Reason
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	io.WriteString(s.w, line+"\n") // one write per line: parallel hosts never interleave
}

func (s *textSink) End(sum Summary) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := StatusOK
	if sum.Failed() {
		st = StatusFailed
	}
	fmt.Fprintf(s.w, "\n%s\n", s.paint(st, sum.Line()+fmt.Sprintf(" in %.1fs", sum.Elapsed.Seconds())))
}

func (s *textSink) paint(st Status, text string) string {
	if !s.color {
		return text
	}
	code := map[Status]string{StatusOK: "\x1b[32m", StatusFailed: "\x1b[31m", StatusSkipped: "\x1b[36m"}[st]
	return code + text + "\x1b[0m"
}

func pad(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
}

// Collector keeps results in memory (tests, or a caller that wants them).
type Collector struct {
	mu      sync.Mutex
	Results []Result
	Hosts   []string
	Summary *Summary
}

func (c *Collector) Begin(hosts []string, _ bool) { c.mu.Lock(); c.Hosts = hosts; c.mu.Unlock() }
func (c *Collector) Check(r Result)               { c.mu.Lock(); c.Results = append(c.Results, r); c.mu.Unlock() }
func (c *Collector) End(s Summary)                { c.mu.Lock(); c.Summary = &s; c.mu.Unlock() }

// Find returns the result of host's check, if any.
func (c *Collector) Find(host, check string) (Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.Results {
		if r.Host == host && r.Check == check {
			return r, true
		}
	}
	return Result{}, false
}

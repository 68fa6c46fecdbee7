// Package loadgen is clusterctl's user simulator: N client sessions, each
// with its own cookie, requesting the probe app through the proxy at a
// fixed pace, and counting exactly what users would feel while the cluster
// is changed: failed requests, lost sessions (a new session where one
// existed), stale answers (the session's counter did not rise) and latency.
// It only ever talks to the URLs it is given, and stops by itself at its
// deadline or request budget.
package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"sort"
	"sync"
	"time"
)

// Config is one load.
type Config struct {
	URLs     []string      // probe URLs, e.g. http://proxy:80/probe/; session i uses URLs[i % len]
	Sessions int           // client sessions; 0 means 20
	Interval time.Duration // pause between a session's requests; 0 means 50 ms
	// Duration and MaxRequests bound the load whatever the caller does;
	// 0 means 10 minutes and 1,000,000.
	Duration    time.Duration
	MaxRequests int
	// Dial, if set, opens the connections (e.g. through an SSH tunnel).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Report is what the sessions saw, counted exactly.
type Report struct {
	Sessions, Requests int
	Failed             int // transport error, non-200, or not the probe's JSON
	Lost               int // a new session where the client had one
	Stale              int // the counter did not rise over the last answer
	P50, P95, P99, Max time.Duration
	Elapsed            time.Duration
	Samples            []string // the first failures, lost and stale answers, for the log
	// Versions counts the answers by their "version" field, for an app
	// that says which version answered (none: the probe's answers).
	Versions map[string]int
}

func (r Report) String() string {
	return fmt.Sprintf("%d sessions, %d requests in %s: %d failed, %d lost sessions, %d stale answers; latency p50 %s p95 %s p99 %s max %s",
		r.Sessions, r.Requests, r.Elapsed.Round(100*time.Millisecond), r.Failed, r.Lost, r.Stale,
		r.P50.Round(time.Millisecond), r.P95.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond))
}

// Clean reports whether users saw nothing: the bar for a restart.
func (r Report) Clean() bool { return r.Failed == 0 && r.Lost == 0 && r.Stale == 0 }

const maxSamples = 10

// Load is a running load.
type Load struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	rep     Report
	lat     []time.Duration
	started time.Time
}

// Start begins the load; Stop ends it and returns the figures. Each
// session's first request creates its session, so Start returns once every
// session exists (or failed to), and what Stop counts is what happened to
// sessions that existed.
func Start(ctx context.Context, cfg Config) (*Load, error) {
	if len(cfg.URLs) == 0 {
		return nil, fmt.Errorf("loadgen: no URL")
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 20
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Minute
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = 1_000_000
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Sessions, IdleConnTimeout: 30 * time.Second}
	if cfg.Dial != nil {
		tr.DialContext = cfg.Dial
	} else {
		tr.DialContext = (&net.Dialer{Timeout: 3 * time.Second}).DialContext
	}
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	l := &Load{cancel: cancel, done: make(chan struct{}), started: time.Now()}
	l.rep.Sessions = cfg.Sessions
	sessions := make([]*session, cfg.Sessions)
	for i := range sessions {
		jar, _ := cookiejar.New(nil)
		sessions[i] = &session{l: l, url: cfg.URLs[i%len(cfg.URLs)], c: &http.Client{Transport: tr, Jar: jar, Timeout: 10 * time.Second}}
	}
	var budget sync.Mutex
	left := cfg.MaxRequests
	take := func() bool {
		budget.Lock()
		defer budget.Unlock()
		left--
		return left >= 0
	}
	var first sync.WaitGroup
	for _, s := range sessions {
		first.Add(1)
		go func() {
			if take() {
				s.request(lctx)
			}
			first.Done()
		}()
	}
	first.Wait()
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(cfg.Interval)
			defer t.Stop()
			for {
				select {
				case <-lctx.Done():
					return
				case <-t.C:
				}
				if !take() {
					return
				}
				s.request(lctx)
			}
		}()
	}
	go func() {
		wg.Wait()
		tr.CloseIdleConnections()
		close(l.done)
	}()
	return l, nil
}

// Done is closed when the load has run out of time or requests.
func (l *Load) Done() <-chan struct{} { return l.done }

// Stop ends the load (or waits for it if it already ran out) and returns
// the report.
func (l *Load) Stop() Report {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rep
	r.Elapsed = time.Since(l.started)
	sort.Slice(l.lat, func(i, j int) bool { return l.lat[i] < l.lat[j] })
	pct := func(p float64) time.Duration {
		if len(l.lat) == 0 {
			return 0
		}
		return l.lat[min(len(l.lat)-1, int(p*float64(len(l.lat))))]
	}
	r.P50, r.P95, r.P99 = pct(0.50), pct(0.95), pct(0.99)
	if len(l.lat) > 0 {
		r.Max = l.lat[len(l.lat)-1]
	}
	return r
}

// answer is the probe's JSON (assets/probe/index.jsp).
type answer struct {
	Session string `json:"session"`
	Counter int    `json:"counter"`
	New     bool   `json:"new"`
	Host    string `json:"host"`
	Version string `json:"version"`
}

type session struct {
	l    *Load
	url  string
	c    *http.Client
	last int // counter of the last answer; 0 = no session yet
	// prev is the last answer's session and host, for the samples: a
	// lost or stale answer says which session it should have continued.
	prev string
}

func (s *session) request(ctx context.Context) {
	t0 := time.Now()
	a, err := s.get(ctx)
	d := time.Since(t0)
	if ctx.Err() != nil && err != nil {
		return // stopped mid-request: not the cluster's failure
	}
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.l.rep.Requests++
	s.l.lat = append(s.l.lat, d)
	switch {
	case err != nil:
		s.l.rep.Failed++
		s.l.sample("failed: %v", err)
		return
	case s.last > 0 && (a.New || a.Counter <= 1):
		s.l.rep.Lost++
		s.l.sample("lost: had counter %d (%s), got a new session %s from %s", s.last, s.prev, a.Session, a.Host)
	case s.last > 0 && a.Counter <= s.last:
		s.l.rep.Stale++
		s.l.sample("stale: counter %d after %d (%s), session %s from %s", a.Counter, s.last, s.prev, a.Session, a.Host)
	}
	s.last, s.prev = a.Counter, a.Session+" from "+a.Host
	if a.Version != "" {
		if s.l.rep.Versions == nil {
			s.l.rep.Versions = map[string]int{}
		}
		s.l.rep.Versions[a.Version]++
	}
}

func (l *Load) sample(format string, args ...any) {
	if len(l.rep.Samples) < maxSamples {
		l.rep.Samples = append(l.rep.Samples, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	}
}

func (s *session) get(ctx context.Context) (answer, error) {
	var a answer
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return a, err
	}
	resp, err := s.c.Do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return a, err
	}
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Session == "" || a.Counter < 1 {
		return a, fmt.Errorf("not the probe's answer: %.80q", body)
	}
	return a, nil
}

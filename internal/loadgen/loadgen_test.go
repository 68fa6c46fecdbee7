package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// probe imitates assets/probe/index.jsp; fault, if set, may spoil the
// answer to request n (1-based, across sessions).
func probe(_ testing.TB, fault func(n int) string) *httptest.Server {
	var mu sync.Mutex
	counters := map[string]int{}
	n, ids := 0, 0
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		f := ""
		if fault != nil {
			f = fault(n)
		}
		if f == "502" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		id := ""
		if c, err := r.Cookie("JSESSIONID"); err == nil {
			id = c.Value
		}
		_, known := counters[id]
		if !known || f == "lose" {
			ids++
			id = fmt.Sprintf("%032X-n2.t58", ids)
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: id, Path: "/"})
			counters[id] = 0
		}
		counters[id]++
		c := counters[id]
		if f == "stale" {
			c -= 1
		}
		version := ""
		if f == "v2" { // an app that says which version answered
			version = `,"version":"v2"`
		}
		fmt.Fprintf(w, `{"host":"t58","session":%q,"counter":%d,"new":%t%s}`+"\n", id, c, counters[id] == 1, version)
	}))
}

func TestLoadCountsExactly(t *testing.T) {
	for name, c := range map[string]struct {
		fault               func(int) string
		failed, lost, stale int
		v2                  int
	}{
		"clean": {},
		"one of each": {fault: func(n int) string {
			return map[int]string{30: "502", 40: "lose", 50: "stale"}[n]
		}, failed: 1, lost: 1, stale: 1},
		"three failures": {fault: func(n int) string {
			if n >= 60 && n < 63 {
				return "502"
			}
			return ""
		}, failed: 3},
		"versions counted": {fault: func(n int) string {
			if n%4 == 0 {
				return "v2"
			}
			return ""
		}, v2: 25},
	} {
		t.Run(name, func(t *testing.T) {
			srv := probe(t, c.fault)
			defer srv.Close()
			l, err := Start(context.Background(), Config{URLs: []string{srv.URL + "/probe/"}, Sessions: 5,
				Interval: 2 * time.Millisecond, MaxRequests: 100})
			if err != nil {
				t.Fatal(err)
			}
			<-l.Done() // the request budget stops it by itself
			r := l.Stop()
			if r.Requests != 100 || r.Failed != c.failed || r.Lost != c.lost || r.Stale != c.stale {
				t.Fatalf("report %s, want 100 requests, %d failed, %d lost, %d stale; samples %q", r, c.failed, c.lost, c.stale, r.Samples)
			}
			if r.Versions["v2"] != c.v2 || len(r.Versions) > 1 {
				t.Errorf("versions %v, want %d answers of v2 and no other version", r.Versions, c.v2)
			}
			if r.Clean() != (c.failed+c.lost+c.stale == 0) {
				t.Errorf("Clean() = %v for %s", r.Clean(), r)
			}
		})
	}
}

// BenchmarkLoad is the generator's own overhead: b.N requests of 20
// sessions with no pause against an in-process probe, so a regression in
// the client (or its bookkeeping) shows as fewer requests per second.
func BenchmarkLoad(b *testing.B) {
	srv := probe(b, nil)
	defer srv.Close()
	b.ResetTimer()
	l, err := Start(context.Background(), Config{URLs: []string{srv.URL + "/probe/"}, Sessions: 20,
		Interval: time.Microsecond, MaxRequests: b.N + 20})
	if err != nil {
		b.Fatal(err)
	}
	<-l.Done()
	r := l.Stop()
	b.StopTimer()
	if !r.Clean() {
		b.Fatalf("a clean probe gave %s", r)
	}
	b.ReportMetric(float64(r.Requests)/r.Elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(r.P99.Microseconds()), "p99_us")
}

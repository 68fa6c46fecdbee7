package parallel

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestEachCallsEveryIndexWithinTheLimit(t *testing.T) {
	var running, peak atomic.Int32
	seen := make([]atomic.Int32, 20)
	Each(len(seen), 3, func(i int) {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		seen[i].Add(1)
		running.Add(-1)
	})
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Errorf("index %d called %d times, want 1", i, seen[i].Load())
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3 with limit 3", p)
	}
}

func TestEachWithZeroLimitStillRuns(t *testing.T) {
	n := 0
	Each(4, 0, func(int) { n++ }) // limit 1: no data race on n
	if n != 4 {
		t.Fatalf("ran %d of 4", n)
	}
}

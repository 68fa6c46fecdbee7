// Package parallel runs per-host work concurrently with a bound, the one
// fan-out pattern dialling, journal reading and health checks share.
package parallel

import "sync"

// Each calls fn(i) for every i in [0, n), at most limit at a time (limit
// < 1 means 1), and returns when all calls have returned.
func Each(n, limit int, fn func(i int)) {
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

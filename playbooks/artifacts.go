package playbooks

import (
	"sync"
)

// localFacts memoises what the plays learn from local artifact files
// (a tarball's top directory, a checksum verdict): every host asks the same
// question, and a run should read each file once, not once per host.
type localFacts struct {
	mu   sync.Mutex
	memo map[string]localAnswer
}

type localAnswer struct {
	val string
	err error
}

func (l *localFacts) get(key string, compute func() (string, error)) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.memo[key]; ok {
		return a.val, a.err
	}
	v, err := compute()
	if l.memo == nil {
		l.memo = map[string]localAnswer{}
	}
	l.memo[key] = localAnswer{v, err}
	return v, err
}

package lab

import (
	"bytes"
	"io"
	"sync"
)

// prefixWriter prefixes every complete line written to w; used to fold a
// tool's output into the lab's progress log.
func prefixWriter(w io.Writer, prefix string) io.Writer {
	if w == nil || w == io.Discard {
		return io.Discard
	}
	return &linePrefixer{w: w, prefix: []byte("lab: " + prefix)}
}

type linePrefixer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte{}, p.prefix...), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

package transport

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progressThreshold: smaller files upload in a moment; a bar would only
// flicker.
const progressThreshold = 8 << 20

const progressEvery = 200 * time.Millisecond

// stderrProgress is the default progress sink: stderr, only when it is a
// terminal (never in logs or CI output).
func stderrProgress() io.Writer {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return os.Stderr
	}
	return nil
}

// newProgress wraps r to draw a one-line progress bar on out, or returns r
// itself when there is nowhere to draw or the file is small.
func newProgress(out io.Writer, label string, total int64, r io.Reader) io.Reader {
	if out == nil || out == io.Discard || total <= progressThreshold {
		return r
	}
	return &progressReader{r: r, out: out, label: label, total: total}
}

type progressReader struct {
	r     io.Reader
	out   io.Writer
	label string
	total int64
	done  int64
	last  time.Time
	ended bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	now := time.Now()
	finished := p.done >= p.total || err != nil
	if !p.ended && (finished || now.Sub(p.last) >= progressEvery) {
		p.last = now
		pct := p.done * 100 / p.total
		fmt.Fprintf(p.out, "\r%s %3d%% %d/%d MiB", p.label, pct, p.done>>20, p.total>>20)
		if finished {
			fmt.Fprintln(p.out)
			p.ended = true
		}
	}
	return n, err
}

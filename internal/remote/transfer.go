package remote

import (
	"context"
	"sync/atomic"
)

// Transfer counts an upload's bytes as they go, for progress reports. The
// engine puts one into the context of each step it runs; a Conn whose
// Upload finds one there keeps it current, so a step's progress events can
// say how far a 145 MB JDK has got without the step knowing how Conn
// moves bytes.
type Transfer struct{ done, total atomic.Int64 }

// Begin starts counting an upload of total bytes (a retry starts again).
func (t *Transfer) Begin(total int64) {
	t.done.Store(0)
	t.total.Store(total)
}

// Add counts n more bytes sent.
func (t *Transfer) Add(n int64) { t.done.Add(n) }

// Bytes is how many bytes of how many have been sent; total 0 means no
// upload has begun.
func (t *Transfer) Bytes() (done, total int64) { return t.done.Load(), t.total.Load() }

type transferKey struct{}

// WithTransfer returns ctx carrying t.
func WithTransfer(ctx context.Context, t *Transfer) context.Context {
	return context.WithValue(ctx, transferKey{}, t)
}

// TransferFrom is the Transfer ctx carries, or nil.
func TransferFrom(ctx context.Context) *Transfer {
	t, _ := ctx.Value(transferKey{}).(*Transfer)
	return t
}

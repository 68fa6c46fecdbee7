package transport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// The cost of one command over an open connection bounds every step's
// Check: a no-op apply is about (steps x round trips) of these.
func BenchmarkRunRoundTrip(b *testing.B) {
	f := newFixture(b)
	c, err := Dial(context.Background(), f.cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, err := c.Run(context.Background(), "true"); err != nil || !res.OK() {
			b.Fatalf("run: %v %+v", err, res)
		}
	}
}

// An upload whose remote copy is already current must cost a checksum
// comparison, not a transfer: this is what re-running apply pays per jar.
func BenchmarkUploadUnchanged8MiB(b *testing.B) {
	f := newFixture(b)
	c, err := Dial(context.Background(), f.cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dir := b.TempDir()
	local := filepath.Join(dir, "local.bin")
	if err := os.WriteFile(local, bytes.Repeat([]byte("clusterctl"), 8<<20/10), 0o644); err != nil {
		b.Fatal(err)
	}
	remotePath := filepath.Join(dir, "remote.bin")
	meta := remote.FileMeta{Mode: 0o644}
	if _, err := c.Upload(context.Background(), local, remotePath, meta); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		changed, err := c.Upload(context.Background(), local, remotePath, meta)
		if err != nil || changed {
			b.Fatalf("second upload: changed=%v err=%v", changed, err)
		}
	}
}

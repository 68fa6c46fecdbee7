package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
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

// The seed's JDK tarball (jdk-8u131-linux-x64.tar.gz) is about 145 MB; an
// upload through a bastion must keep at least 80 % of a direct upload's
// throughput (the bastion's target). Each sub-benchmark uploads a fresh 145 MB file;
// the ratio of their MB/s is the figure, and BenchmarkUploadBastionRatio
// holds it.
const seedJDKBytes = 145 << 20

func benchUpload(b *testing.B, cfg Config) {
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dir := b.TempDir()
	local := filepath.Join(dir, "jdk.tar.gz")
	writeRandom(b, local, seedJDKBytes)
	b.SetBytes(seedJDKBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		remotePath := filepath.Join(dir, "remote-"+strconv.Itoa(i))
		if _, err := c.Upload(context.Background(), local, remotePath, remote.FileMeta{Mode: 0o644}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(remotePath)
		b.StartTimer()
	}
}

func writeRandom(b *testing.B, path string, n int) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkUploadSeedJDK(b *testing.B) {
	b.Run("direct", func(b *testing.B) { benchUpload(b, newFixture(b).cfg) })
	b.Run("bastion", func(b *testing.B) { benchUpload(b, bastionPair(b).cfg) })
}

// bastionPair is a host fixture reached through a second in-process server.
func bastionPair(b *testing.B) *fixture {
	via := newFixture(b)
	return behind(b, via, bastionFor(b, via), nil)
}

package engine

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/sshtest"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// A large upload over a real SSH connection (the in-process server) says
// how far it has got in its progress events, off a terminal too: the
// bytes come from the transport as they are sent.
func TestALargeUploadReportsItsBytes(t *testing.T) {
	old := ProgressInterval
	ProgressInterval = 10 * time.Millisecond
	t.Cleanup(func() { ProgressInterval = old })
	key := sshtest.NewClientKey(t, "")
	srv := sshtest.Start(t, sshtest.WithAuthorizedKey(key.Public))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := transport.Dial(ctx, transport.Config{Host: "t58", Address: "127.0.0.1", Port: srv.Port(), User: "root",
		KeyFiles: []string{key.Path}, KnownHostsFile: srv.WriteKnownHosts(t), ConnectTimeout: 5 * time.Second, KeepaliveInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	local := filepath.Join(dir, "jdk.tar.gz")
	b := make([]byte, 96<<20)
	rand.Read(b)
	if err := os.WriteFile(local, b, 0o644); err != nil {
		t.Fatal(err)
	}
	h := NewHost(c, nil)
	h.Facts = debianFacts
	var col Collector
	Run(ctx, []*Host{h}, []Play{{Name: "java", Steps: []Step{Upload{Local: local, Path: filepath.Join(dir, "uploaded-jdk.tar.gz"), Meta: remote.FileMeta{Mode: 0o644}}}}},
		Options{StateDir: filepath.Join(dir, "state")}, &col)
	var sums []string
	result := ""
	for _, e := range col.Events() {
		switch e.Type {
		case EventStepProgress:
			sums = append(sums, e.Summary)
		case EventStep:
			result = string(e.Status)
		}
	}
	if result != string(StatusChanged) {
		t.Fatalf("upload: %s, progress %q", result, sums)
	}
	partway := false
	for _, s := range sums {
		partway = partway || strings.HasSuffix(strings.SplitN(s, " MiB", 2)[0], "of 96") && !strings.HasSuffix(s, " 100%")
	}
	if !partway {
		t.Errorf("no progress event said how far the upload had got: %q", sums)
	}
}

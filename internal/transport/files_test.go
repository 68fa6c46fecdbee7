package transport

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func fileMeta(mode fs.FileMode) remote.FileMeta { return remote.FileMeta{Mode: mode} }

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func onlyFile(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("dir holds %q, want just the target (temp file left behind?)", names)
	}
}

func TestReadFile(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	dir := t.TempDir()
	want := []byte("line1\n\x00binary\xff")
	os.WriteFile(filepath.Join(dir, "f"), want, 0o644)
	got, ok, err := c.ReadFile(ctxT(t), filepath.Join(dir, "f"))
	if err != nil || !ok || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile = %q, %v, %v", got, ok, err)
	}
	got, ok, err = c.ReadFile(ctxT(t), filepath.Join(dir, "absent"))
	if err != nil || ok || got != nil {
		t.Fatalf("ReadFile(absent) = %q, %v, %v", got, ok, err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	dir := t.TempDir()
	p := filepath.Join(dir, "app.conf")
	os.WriteFile(p, []byte("old"), 0o600)
	before := inode(t, p)

	if err := c.WriteFile(ctxT(t), p, []byte("new content"), fileMeta(0o640)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "new content" || st.Mode().Perm() != 0o640 {
		t.Fatalf("file = %q mode %v", b, st.Mode())
	}
	if inode(t, p) == before {
		t.Fatal("file rewritten in place, not renamed over")
	}
	onlyFile(t, dir)
}

func TestTempNameIsInSameDirectory(t *testing.T) {
	a, b := tempName("/etc/app/x.conf"), tempName("/etc/app/x.conf")
	if !strings.HasPrefix(a, "/etc/app/x.conf.tmp-") || len(a) != len("/etc/app/x.conf.tmp-")+12 || a == b {
		t.Fatalf("temp names %q, %q", a, b)
	}
}

// A concurrent reader must only ever see the whole old or whole new file.
func TestWriteFileReaderNeverSeesPartialFile(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	p := filepath.Join(t.TempDir(), "big")
	a, b := bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 1<<20)
	os.WriteFile(p, a, 0o644)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := os.ReadFile(p)
			if err != nil || !(bytes.Equal(got, a) || bytes.Equal(got, b)) {
				bad = append(bad, "len "+strconv.Itoa(len(got)))
				return
			}
		}
	}()
	for i := range 6 {
		data := a
		if i%2 == 0 {
			data = b
		}
		if err := c.WriteFile(ctxT(t), p, data, fileMeta(0o644)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("reader saw a partial file: %v", bad)
	}
}

func TestWriteFileSpecialModeAndOwner(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	c := dialT(t, newFixture(t).cfg)
	p := filepath.Join(t.TempDir(), "tool")
	meta := remote.FileMeta{Mode: 0o755 | fs.ModeSetuid, Owner: "nobody"}
	if err := c.WriteFile(ctxT(t), p, []byte("#!/bin/sh\n"), meta); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode()&fs.ModeSetuid == 0 || st.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want setuid 0755", st.Mode())
	}
	if uid := strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Uid)); uid != nobody.Uid {
		t.Errorf("uid = %s, want nobody (%s)", uid, nobody.Uid)
	}
}

func TestWriteFileMissingDirectory(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	p := filepath.Join(t.TempDir(), "nodir", "f")
	err := c.WriteFile(ctxT(t), p, []byte("x"), fileMeta(0o644))
	wantErr(t, err, "t58: write "+p+":", "not exist")
}

func TestUploadSkipsWhenSameSHA(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	src := filepath.Join(t.TempDir(), "app.war")
	os.WriteFile(src, []byte("war bytes"), 0o600)
	dir := t.TempDir()
	dst := filepath.Join(dir, "app.war")
	meta := fileMeta(0o644)

	changed, err := c.Upload(ctxT(t), src, dst, meta)
	if err != nil || !changed {
		t.Fatalf("first Upload = %v, %v; want changed", changed, err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "war bytes" {
		t.Fatalf("uploaded %q", b)
	}
	ino := inode(t, dst)

	changed, err = c.Upload(ctxT(t), src, dst, meta)
	if err != nil || changed {
		t.Fatalf("second Upload = %v, %v; want unchanged", changed, err)
	}
	if inode(t, dst) != ino {
		t.Fatal("identical file transferred again")
	}

	// Same content, wrong mode: fixed in place, reported as a change.
	os.Chmod(dst, 0o600)
	changed, err = c.Upload(ctxT(t), src, dst, meta)
	st, _ := os.Stat(dst)
	if err != nil || !changed || st.Mode().Perm() != 0o644 || inode(t, dst) != ino {
		t.Fatalf("mode fix: changed=%v err=%v mode=%v", changed, err, st.Mode())
	}

	// Different content: transferred.
	os.WriteFile(dst, []byte("tampered"), 0o644)
	changed, err = c.Upload(ctxT(t), src, dst, meta)
	if b, _ := os.ReadFile(dst); err != nil || !changed || string(b) != "war bytes" {
		t.Fatalf("after tamper: changed=%v err=%v content=%q", changed, err, b)
	}
	onlyFile(t, dir)
}

func TestUploadMissingLocalFile(t *testing.T) {
	c := dialT(t, newFixture(t).cfg)
	src := filepath.Join(t.TempDir(), "nope")
	_, err := c.Upload(ctxT(t), src, filepath.Join(t.TempDir(), "x"), fileMeta(0o644))
	wantErr(t, err, "t58: upload "+src, "no such file")
}

func TestFilesThroughSudo(t *testing.T) {
	fakeSudo(t, `exec "$@"`)
	f := newFixture(t)
	f.cfg.User = "deploy"
	c := dialT(t, f.cfg)
	dir := t.TempDir()
	p := filepath.Join(dir, "it's.conf")

	if err := c.WriteFile(ctxT(t), p, []byte("via sudo"), fileMeta(0o640)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "via sudo" || st.Mode().Perm() != 0o640 {
		t.Fatalf("file = %q mode %v", b, st.Mode())
	}
	onlyFile(t, dir)
	if ents, _ := os.ReadDir(f.srv.HomeDir()); len(ents) != 0 {
		t.Fatalf("staging file left in home: %v", ents)
	}

	data, ok, err := c.ReadFile(ctxT(t), p)
	if err != nil || !ok || string(data) != "via sudo" {
		t.Fatalf("ReadFile = %q %v %v", data, ok, err)
	}
	if _, ok, err := c.ReadFile(ctxT(t), p+".absent"); err != nil || ok {
		t.Fatalf("ReadFile(absent) = %v, %v", ok, err)
	}

	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, []byte("via sudo"), 0o600)
	if changed, err := c.Upload(ctxT(t), src, p, fileMeta(0o640)); err != nil || changed {
		t.Fatalf("Upload of identical file = %v, %v", changed, err)
	}
	for _, cmd := range f.srv.Commands() {
		if !strings.HasPrefix(cmd, "sudo -n sh -c '") {
			t.Errorf("command not wrapped in sudo -n: %q", cmd)
		}
	}
}

func TestParseRemoteState(t *testing.T) {
	st, err := parseRemoteState("absent\n")
	if err != nil || st.exists {
		t.Fatalf("absent: %+v %v", st, err)
	}
	st, err = parseRemoteState("\\abc123  /x\\ny\n4755 root staff\n")
	if err != nil || !st.exists || st.sha256 != "abc123" || st.mode != 0o4755 || st.owner != "root" || st.group != "staff" {
		t.Fatalf("parsed %+v %v", st, err)
	}
	if _, err := parseRemoteState("garbage"); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestMetaFix(t *testing.T) {
	st := remoteFile{exists: true, mode: 0o644, owner: "root", group: "root"}
	if got := metaFix(st, remote.FileMeta{Mode: 0o644, Owner: "root"}, "/f"); got != "" {
		t.Fatalf("nothing to fix, got %q", got)
	}
	got := metaFix(st, remote.FileMeta{Mode: 0o600, Group: "tomcat"}, "/f")
	if got != "chgrp -- 'tomcat' '/f' && chmod 0600 -- '/f'" {
		t.Fatalf("metaFix = %q", got)
	}
	// chown clears setuid, so a new owner means chmod again.
	st.mode = 0o4755
	for _, mode := range []fs.FileMode{0o755 | fs.ModeSetuid, 0o4755} {
		got = metaFix(st, remote.FileMeta{Mode: mode, Owner: "tomcat"}, "/f")
		if got != "chown -- 'tomcat' '/f' && chmod 4755 -- '/f'" {
			t.Fatalf("metaFix(%v, new owner) = %q", mode, got)
		}
	}
	if unixMode(remote.FileMeta{}) != 0o644 {
		t.Fatal("zero mode should default to 0644")
	}
}

func TestProgress(t *testing.T) {
	var out bytes.Buffer
	small := strings.NewReader("x")
	if r := newProgress(&out, "l", 1, small); r != io.Reader(small) {
		t.Fatal("small file got a progress bar")
	}
	big := bytes.NewReader(make([]byte, progressThreshold+1))
	if r := newProgress(nil, "l", progressThreshold+1, big); r != io.Reader(big) {
		t.Fatal("progress drawn without a terminal")
	}
	r := newProgress(&out, "t58: upload jdk.tgz", progressThreshold+1, big)
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "t58: upload jdk.tgz 100% 8/8 MiB\n") {
		t.Fatalf("progress output %q", s)
	}
}

// A file is written with one command, its bytes on stdin: one session
// channel (two round trips), where SFTP's create, write, close, chmod and
// rename took five or more. Binary content and the mode survive.
func TestWriteFileIsOneCommand(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	p := filepath.Join(t.TempDir(), "f")
	data := []byte("a\x00b\n\xffno newline")
	before, cmds := c.Sessions(), len(f.srv.Commands())
	if err := c.WriteFile(ctxT(t), p, data, fileMeta(0o600)); err != nil {
		t.Fatal(err)
	}
	if n := c.Sessions() - before; n != 1 {
		t.Errorf("%d session channels for one write, want 1", n)
	}
	if ran := f.srv.Commands()[cmds:]; len(ran) != 1 || !strings.Contains(ran[0], "cat > ") {
		t.Errorf("commands for one write: %q, want the one that takes the bytes on stdin", ran)
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("wrote %q, %v; want %q", got, err, data)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode())
	}
	if left, _ := filepath.Glob(p + ".tmp-*"); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

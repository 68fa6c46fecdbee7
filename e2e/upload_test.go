//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"testing"

	"github.com/pkg/sftp"
)

// UploadFile copies the local file to remote on host over SFTP (the lab key,
// pinned host keys), creating remote's directory and setting mode.
func UploadFile(t testing.TB, host, local, remote string, mode os.FileMode) {
	t.Helper()
	f, err := os.Open(local)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := putFile(host, remote, f, mode); err != nil {
		t.Fatalf("%s: upload %s to %s: %v", host, local, remote, err)
	}
}

// WriteFileOn writes data to remote on host over SFTP, like UploadFile.
func WriteFileOn(t testing.TB, host, remote string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := putFile(host, remote, bytes.NewReader(data), mode); err != nil {
		t.Fatalf("%s: write %s: %v", host, remote, err)
	}
}

func putFile(host, remote string, r io.Reader, mode os.FileMode) error {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	c, err := testLab.Dial(ctx, host)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // bound a stuck transfer
	defer stop()
	sc, err := sftp.NewClient(c, sftp.UseConcurrentWrites(true))
	if err != nil {
		return fmt.Errorf("sftp: %w", err)
	}
	defer sc.Close()
	if err := sc.MkdirAll(path.Dir(remote)); err != nil {
		return err
	}
	f, err := sc.OpenFile(remote, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(r); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

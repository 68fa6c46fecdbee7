// Package artifactstest writes small tarballs for tests of what reads them.
package artifactstest

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"testing"
)

// WriteTarGz writes file as a .tar.gz holding the directory top/ and one
// two-byte file top/marker: the shape of a JDK or Tomcat tarball.
func WriteTarGz(t testing.TB, file, top string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: top + "/marker", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	tw.Write([]byte("x\n"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

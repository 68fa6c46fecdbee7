package artifacts

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path"
	"sort"
	"time"
)

// epoch is the modification time of every entry in the archives built
// here, so a rebuild from the same inputs gives the same bytes.
var epoch = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

// tgz writes a deterministic .tar.gz (no owner names, fixed times).
type tgz struct {
	f  *os.File
	gz *gzip.Writer
	tw *tar.Writer
}

func newTgz(file string) (*tgz, error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	gz, _ := gzip.NewWriterLevel(f, gzip.DefaultCompression)
	return &tgz{f: f, gz: gz, tw: tar.NewWriter(gz)}, nil
}

func (t *tgz) header(name string, mode int64, size int64, typ byte) error {
	return t.tw.WriteHeader(&tar.Header{
		Name: name, Mode: mode, Size: size, Typeflag: typ,
		ModTime: epoch, Format: tar.FormatPAX,
	})
}

func (t *tgz) dir(name string, mode int64) error {
	return t.header(name+"/", mode, 0, tar.TypeDir)
}

func (t *tgz) bytes(name string, mode int64, data []byte) error {
	if err := t.header(name, mode, int64(len(data)), tar.TypeReg); err != nil {
		return err
	}
	_, err := t.tw.Write(data)
	return err
}

// file copies src (symlinks followed) into the archive as name.
func (t *tgz) file(name string, mode int64, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := t.header(name, mode, st.Size(), tar.TypeReg); err != nil {
		return err
	}
	_, err = io.Copy(t.tw, f)
	return err
}

func (t *tgz) close() error {
	err := t.tw.Close()
	if e := t.gz.Close(); err == nil {
		err = e
	}
	if e := t.f.Close(); err == nil {
		err = e
	}
	return err
}

// jarEntry is one file of a jar built by writeJar.
type jarEntry struct {
	name string
	data []byte
}

// writeJar writes a jar with the manifest first (as JarInputStream needs)
// and the other entries sorted, all with the fixed epoch.
func writeJar(file, manifest string, entries []jarEntry) error {
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: epoch})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	if err := add("META-INF/MANIFEST.MF", []byte(manifest)); err != nil {
		return err
	}
	for _, e := range entries {
		if err := add(e.name, e.data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// readJarManifest returns META-INF/MANIFEST.MF of a jar ("" if it has none).
func readJarManifest(file string) (string, error) {
	zr, err := openZip(file)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if path.Clean(f.Name) == "META-INF/MANIFEST.MF" {
			rc, err := f.Open()
			if err != nil {
				return "", err
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			return string(b), err
		}
	}
	return "", nil
}

func openZip(file string) (*zip.ReadCloser, error) { return zip.OpenReader(file) }

package artifacts

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/clusterctl/clusterctl/internal/checksum"
)

// TopDir returns the directory a .tar.gz unpacks into, read from its
// first entry (Apache's and Oracle's tarballs have exactly one top
// directory; only the first header is read, so this costs milliseconds even
// for a 190 MB JDK).
func TopDir(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: not a gzip file: %w", file, err)
	}
	hdr, err := tar.NewReader(gz).Next()
	if err != nil {
		return "", fmt.Errorf("%s: not a tar archive: %w", file, err)
	}
	name := strings.TrimPrefix(path.Clean(strings.TrimPrefix(hdr.Name, "./")), "/")
	top, _, _ := strings.Cut(name, "/")
	if top == "" || top == "." || top == ".." {
		return "", fmt.Errorf("%s: first entry %q has no top directory", file, hdr.Name)
	}
	return top, nil
}

// WantSHA512 is the tarball's published SHA-512: the inventory's value, or
// else the first word of <tarball>.sha512 (Apache's "<hex> *<name>" format,
// or sha512sum's "<hex>  <name>").
func WantSHA512(inline, tarball string) (string, error) {
	sum := inline
	if sum == "" {
		b, err := os.ReadFile(tarball + ".sha512")
		if err != nil {
			return "", fmt.Errorf("no tomcat.sha512 in the inventory and no checksum file: %w", err)
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			return "", fmt.Errorf("%s.sha512 is empty", tarball)
		}
		sum = fields[0]
	}
	sum = strings.ToLower(strings.TrimSpace(sum))
	if b, err := hex.DecodeString(sum); err != nil || len(b) != sha512.Size {
		return "", fmt.Errorf("checksum for %s is not a SHA-512 (128 hex digits)", path.Base(tarball))
	}
	return sum, nil
}

// ErrChecksum marks a tarball that does not match its published checksum.
var ErrChecksum = errors.New("checksum mismatch")

// VerifySHA512 checks the local file against want before anything is
// uploaded: a corrupt or tampered download must never reach a host.
func VerifySHA512(file, want string) error {
	got, err := checksum.SHA512(file)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s: SHA-512 %.16s... does not match the published %.16s...: %w (re-download it)", path.Base(file), got, want, ErrChecksum)
	}
	return nil
}

// UnpackedSize is what a .tar.gz takes unpacked: the sum of its
// regular files, each rounded up to a 4 KiB block.
func UnpackedSize(file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("%s: not a gzip file: %w", file, err)
	}
	tr := tar.NewReader(gz)
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", file, err)
		}
		total += (hdr.Size + 4095) / 4096 * 4096
	}
}

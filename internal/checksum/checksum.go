// Package checksum hashes local files: the one place that reads a whole
// file through a hash, for upload skipping (SHA-256), tarball verification
// (SHA-512) and the .sha512 files the lab writes.
package checksum

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// File returns the lowercase hex digest of the file at path under h, and
// the number of bytes read.
func File(path string, h hash.Hash) (digest string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if size, err = io.Copy(h, f); err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// SHA256 is File with SHA-256, without the size.
func SHA256(path string) (string, error) {
	d, _, err := File(path, sha256.New())
	return d, err
}

// SHA512 is File with SHA-512, without the size.
func SHA512(path string) (string, error) {
	d, _, err := File(path, sha512.New())
	return d, err
}

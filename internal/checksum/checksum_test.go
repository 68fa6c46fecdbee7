package checksum

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

func TestDigestsOfKnownContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The FIPS 180 test vectors for "abc".
	if got, _ := SHA256(p); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("SHA256 = %s", got)
	}
	if got, _ := SHA512(p); got != "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" {
		t.Errorf("SHA512 = %s", got)
	}
	if _, size, _ := File(p, sha256.New()); size != 3 {
		t.Errorf("size = %d, want 3", size)
	}
	if _, err := SHA256(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file hashed without error")
	}
}

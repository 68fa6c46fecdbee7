package artifacts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// cached returns cache/<name>-<hash of key>, building it first with build
// when absent. The build goes to a temporary directory that is renamed into
// place, so an interrupted build is never mistaken for a finished one and
// two concurrent Prepares cannot see half a build.
func cached(cache, name string, key []string, build func(out string) error) (string, error) {
	sum := sha256.Sum256([]byte(strings.Join(key, "\x00")))
	dir := filepath.Join(cache, name+"-"+hex.EncodeToString(sum[:])[:16])
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("artifacts: cache: %w", err)
	}
	tmp, err := os.MkdirTemp(cache, ".build-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("artifacts: cache: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after a successful rename
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := build(tmp); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(strings.Join(key, "\n")+"\n"), 0o644); err != nil {
		return "", err
	}
	os.RemoveAll(dir) // a leftover without .complete
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr == nil {
			return dir, nil // another Prepare won the race
		}
		return "", fmt.Errorf("artifacts: cache: %w", err)
	}
	// Builds of the same artifact from older inputs are dead weight (the
	// JDK alone is ~70 MB); drop them.
	old, _ := filepath.Glob(filepath.Join(cache, name+"-????????????????"))
	for _, o := range old {
		if o != dir {
			os.RemoveAll(o)
		}
	}
	return dir, nil
}

// installFiles copies names from src into dst unless dst already holds the
// same file (same size and modification time, which the copy preserves).
// Copies, not hard links: whatever later rewrites a file in the artifacts
// directory must not corrupt the cache.
func installFiles(src, dst string, names ...string) error {
	for _, n := range names {
		if err := installFile(filepath.Join(src, n), filepath.Join(dst, n)); err != nil {
			return err
		}
	}
	return nil
}

func installFile(src, dst string) error {
	s, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	if d, err := os.Stat(dst); err == nil && d.Size() == s.Size() && d.ModTime().Equal(s.ModTime()) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("artifacts: copying %s: %w", filepath.Base(dst), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Chtimes(tmp.Name(), s.ModTime(), s.ModTime()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

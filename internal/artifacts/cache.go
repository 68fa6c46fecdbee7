// Package artifacts is what clusterctl knows of the files it puts on hosts
// before it puts them there: where they are cached on this machine, how a
// Maven jar is found or fetched (and checked), and what a tarball holds
// (its top directory, its size unpacked, its published checksum). It
// touches no host.
package artifacts

import (
	"fmt"
	"os"
	"path/filepath"
)

// CacheDir is clusterctl's cache directory for sub: $env when set, else
// <user cache dir>/clusterctl/<sub> (~/.cache/clusterctl/<sub>). The one
// rule for the Maven cache here and the lab's built artifacts.
func CacheDir(env, sub string) (string, error) {
	if d := os.Getenv(env); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%s: no cache directory (set %s): %w", sub, env, err)
	}
	return filepath.Join(d, "clusterctl", sub), nil
}

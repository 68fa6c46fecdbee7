package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The rootfs recipe. Anything that changes what debootstrap produces or how
// the base is cleaned up belongs in here: it is written to the stamp file and
// a cache with a different stamp is rebuilt.
const (
	rootfsSuite   = "bookworm"
	rootfsMirror  = "http://deb.debian.org/debian"
	rootfsVariant = "minbase"
	// Cleanup revision of prepareBase; bump when it changes.
	rootfsLayout = "3"
	stampName    = ".clusterctl-rootfs-stamp"
)

// rootfsIncludes are the packages on top of minbase: systemd as PID 1 and
// dbus (systemctl, hostnamectl, timedatectl), sshd for clusterctl, iproute2
// and procps for debugging, sudo for non-root users, CA certificates for TLS.
// A JDK tarball needs only libc, zlib, libstdc++ and libgcc, all in minbase.
var rootfsIncludes = []string{
	"systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2",
	"procps", "sudo", "ca-certificates",
}

func rootfsStamp() string {
	return fmt.Sprintf("suite=%s\nmirror=%s\nvariant=%s\ninclude=%s\nlayout=%s\n",
		rootfsSuite, rootfsMirror, rootfsVariant, strings.Join(rootfsIncludes, ","), rootfsLayout)
}

// ensureRootfs returns the shared base tree, building it with debootstrap
// when it is missing or was built from another recipe. It is built in a
// temporary directory and renamed into place only once complete, so an
// interrupted build is never mistaken for a cache.
func ensureRootfs(ctx context.Context, o Options) (string, error) {
	dir := o.rootfsDir()
	if b, err := os.ReadFile(filepath.Join(dir, stampName)); err == nil && string(b) == rootfsStamp() {
		return dir, nil
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return "", err
	}
	// Leftovers of earlier interrupted builds.
	old, _ := filepath.Glob(filepath.Join(o.CacheDir, "rootfs.*"))
	for _, d := range old {
		os.RemoveAll(d)
	}
	tmp, err := os.MkdirTemp(o.CacheDir, "rootfs.build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	logf(o.Log, "building rootfs with debootstrap (%s %s, once per cache)", rootfsSuite, rootfsVariant)
	start := time.Now()
	if err := runLogged(ctx, prefixWriter(o.Log, "debootstrap: "), "debootstrap",
		"--variant="+rootfsVariant, "--include="+strings.Join(rootfsIncludes, ","),
		rootfsSuite, tmp, rootfsMirror); err != nil {
		return "", fmt.Errorf("lab: debootstrap: %w", err)
	}
	if err := prepareBase(tmp); err != nil {
		return "", fmt.Errorf("lab: rootfs cleanup: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, stampName), []byte(rootfsStamp()), 0o644); err != nil {
		return "", err
	}
	if _, err := os.Stat(dir); err == nil {
		// Stale recipe: move it aside first so the rename below is atomic.
		aside := filepath.Join(o.CacheDir, "rootfs.old-"+fmt.Sprint(time.Now().UnixNano()))
		if err := os.Rename(dir, aside); err != nil {
			return "", err
		}
		defer os.RemoveAll(aside)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	logf(o.Log, "rootfs built in %s", time.Since(start).Round(100*time.Millisecond))
	return dir, nil
}

// prepareBase removes what debootstrap copied from, or generated on, the
// outer machine and that must not be shared by the hosts: the outer
// hostname and resolv.conf, the machine-id and the SSH host keys (each host
// gets its own), and the downloaded .debs.
func prepareBase(root string) error {
	remove := []string{
		"etc/hostname",   // the outer machine's name; apply sets each host's
		"etc/machine-id", // systemd writes a fresh one at first boot
		"var/lib/dbus/machine-id",
	}
	keys, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		rel, _ := filepath.Rel(root, k)
		remove = append(remove, rel)
	}
	debs, _ := filepath.Glob(filepath.Join(root, "var/cache/apt/archives/*.deb"))
	for _, d := range debs {
		rel, _ := filepath.Rel(root, d)
		remove = append(remove, rel)
	}
	for _, p := range remove {
		if err := os.Remove(filepath.Join(root, p)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	// debootstrap writes no /etc/hosts; without one even "localhost" would
	// go to DNS. apply adds the cluster's names.
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"),
		[]byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"), 0o644); err != nil {
		return err
	}
	// No DNS in the lab: hosts name each other through /etc/hosts (apply
	// writes it) and reach Debian through the apt proxy, which resolves.
	return os.WriteFile(filepath.Join(root, "etc/resolv.conf"),
		[]byte("# clusterctl lab: no DNS server on the lab bridge; names come from /etc/hosts\n"), 0o644)
}

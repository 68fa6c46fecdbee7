package inventory

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/checksum"
)

// CheckLocal checks, before any host is contacted, the local files the
// inventory names: the SSH key files (every command needs them) and, with
// artifacts, the tarballs apply uploads. A missing or unreadable file is
// an error at the line that names it; no command gets as far as dialling
// every host to find out per host.
func (inv *Inventory) CheckLocal(artifacts bool) error {
	c := &checker{file: inv.file, pos: inv.pos}
	inv.keyFiles(c)
	c.bastionKeys("ssh.bastion", inv.SSH.Bastion)
	for i, h := range inv.all {
		if h.SSH != nil {
			c.bastionKeys(fmt.Sprintf("hosts[%d].ssh.bastion", i), h.SSH.Bastion)
		}
	}
	tomcats := false
	for _, h := range inv.AllHosts() {
		tomcats = tomcats || h.Has(RoleTomcat)
	}
	if artifacts && tomcats {
		if inv.Java.Install == JavaTarball {
			c.gzipTar("java.tarball", inv.ArtifactPath(inv.Java.Tarball), "the JDK tarball (put it into artifacts.dir "+inv.Artifacts.Dir+")")
		}
		tc := inv.ArtifactPath(inv.Tomcat.Tarball)
		c.gzipTar("tomcat.tarball", tc, "the Tomcat tarball (put it into artifacts.dir "+inv.Artifacts.Dir+")")
		if inv.Tomcat.SHA512 == "" {
			c.readable("tomcat.tarball", tc+".sha512", "its checksum file (or set tomcat.sha512)")
		}
		for i := range inv.Apps {
			c.app(inv, i)
		}
	}
	return c.errs.errOrNil()
}

// app checks that an app's WAR is there and is the one the inventory (or
// the .sha256 file beside it) names: a wrong WAR must stop apply before any
// host is contacted, not be found on the first Tomcat.
func (c *checker) app(inv *Inventory, i int) {
	a := inv.Apps[i]
	ap := fmt.Sprintf("apps[%d]", i)
	war := inv.ArtifactPath(a.WAR)
	n := len(c.errs)
	c.readable(ap+".war", war, "the app's WAR (put it into artifacts.dir "+inv.Artifacts.Dir+")")
	want, field := a.SHA256, ap+".sha256"
	if want == "" {
		field = ap + ".war"
		b, err := os.ReadFile(war + ".sha256")
		if err != nil {
			c.fail(field, "%s.sha256: its checksum file (or set %s.sha256) is missing or unreadable: %v", war, ap, unwrapPathError(err))
			return
		}
		want, _, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
		if !sha256RE.MatchString(want) {
			c.fail(field, "%s.sha256 holds no SHA-256 (want 64 lowercase hex digits first, as sha256sum writes)", war)
			return
		}
	}
	if len(c.errs) > n {
		return
	}
	got, err := checksum.SHA256(war)
	if err != nil {
		c.fail(ap+".war", "%s: %v", war, err)
		return
	}
	if got != want {
		c.fail(field, "%s has SHA-256 %s, not %s: not the WAR the inventory names", war, got, want)
	}
	inv.Apps[i].SHA256 = want
}

// keyFiles checks ssh.key_files as OpenSSH treats IdentityFile: a file
// that does not exist is skipped, with a notice, while another key, the
// agent or a password is there to log in with; with nothing else, or a
// file that exists but cannot be read, it is an error at its line.
func (inv *Inventory) keyFiles(c *checker) {
	var missing []int
	usable := inv.SSH.Agent && os.Getenv("SSH_AUTH_SOCK") != "" || inv.SSH.PasswordEnv != "" && os.Getenv(inv.SSH.PasswordEnv) != ""
	for i, f := range inv.SSH.KeyFiles {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, i)
			continue
		}
		n := len(c.errs)
		c.privateKey(fmt.Sprintf("ssh.key_files[%d]", i), f)
		usable = usable || len(c.errs) == n
	}
	for _, i := range missing {
		f := inv.SSH.KeyFiles[i]
		if !usable {
			c.readable(fmt.Sprintf("ssh.key_files[%d]", i), f, "a private key")
			continue
		}
		field := fmt.Sprintf("ssh.key_files[%d]", i)
		p := c.pos.lookup(field)
		n := fmt.Sprintf("%s:%d:%d: %s: %s does not exist: skipped, as OpenSSH skips a missing IdentityFile", inv.file, p.line, p.column, field, f)
		if !slices.Contains(inv.Notices, n) {
			inv.Notices = append(inv.Notices, n)
		}
	}
}

func (c *checker) bastionKeys(path string, b *Bastion) {
	for n := 0; b != nil && n < maxBastionHops; b, n = b.Bastion, n+1 {
		for i, f := range b.KeyFiles {
			c.privateKey(fmt.Sprintf("%s.key_files[%d]", path, i), f)
		}
		path += ".bastion"
	}
}

func (c *checker) readable(path, file, what string) {
	if f := c.open(path, file, what); f != nil {
		f.Close()
	}
}

// open is readable that hands the open file on; nil after a failure.
func (c *checker) open(path, file, what string) *os.File {
	f, err := os.Open(file)
	if err != nil {
		c.fail(path, "%s: %s is missing or unreadable: %v", file, what, unwrapPathError(err))
		return nil
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		c.fail(path, "%s: %s is not a regular file", file, what)
		return nil
	}
	return f
}

// maxKeyFile bounds what is read of a key file: an RSA-16384 key in
// OpenSSH's format is under 13 kB.
const maxKeyFile = 64 << 10

// privateKey checks that a key file parses as a private key, as the SSH
// client will need it to: a public key, a certificate or any other file
// named by mistake would otherwise fail only once every host is dialled.
// A passphrase-protected key parses far enough to know it is one. The
// parser's message is generic ("no key found"): nothing of the file's
// content reaches the error.
func (c *checker) privateKey(path, file string) {
	f := c.open(path, file, "a private key")
	if f == nil {
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	switch {
	case err != nil:
		c.fail(path, "%s: a private key is unreadable: %v", file, err)
		return
	case len(b) > maxKeyFile:
		c.fail(path, "%s is over %d kB: not a private key", file, maxKeyFile>>10)
		return
	}
	_, err = ssh.ParseRawPrivateKey(b)
	var pm *ssh.PassphraseMissingError
	if err != nil && !errors.As(err, &pm) {
		hint := ""
		if _, _, _, _, perr := ssh.ParseAuthorizedKey(b); perr == nil {
			hint = " (it is a public key: name the file without .pub)"
		}
		c.fail(path, "%s does not parse as a private key: %v%s", file, err, hint)
	}
}

// gzipTar checks that a tarball is a gzip-compressed tar, as the hosts
// will unpack it with tar xzf: a zip, a JDK installer or an HTML error
// page saved by a failed download would fail only on the first host,
// after the upload. Reading the first tar header is enough to know.
func (c *checker) gzipTar(path, file, what string) {
	f := c.open(path, file, what)
	if f == nil {
		return
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		c.fail(path, "%s: %s is not gzip-compressed (%v): want a .tar.gz as the vendor ships it", file, what, err)
		return
	}
	defer zr.Close()
	if _, err := tar.NewReader(zr).Next(); err != nil {
		c.fail(path, "%s: %s is gzip-compressed but not a tar archive (%v): want a .tar.gz as the vendor ships it", file, what, err)
	}
}

// unwrapPathError keeps "no such file or directory" without repeating the path.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

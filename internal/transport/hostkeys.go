package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsMu serialises appends to known_hosts files: hosts are dialled
// in parallel and several may be new at once.
var knownHostsMu sync.Mutex

// hostKeyChecker verifies a server's host key against a known_hosts file,
// like OpenSSH with StrictHostKeyChecking=yes (default) or accept-new.
type hostKeyChecker struct {
	file   string
	accept bool
	hash   bool
	// err keeps our explanation: the ssh package wraps callback errors in
	// "ssh: handshake failed: ...", which Dial replaces with this.
	err error
}

// load returns the known_hosts callback; a missing file (or directory)
// means every host is unknown.
func (h *hostKeyChecker) load() (ssh.HostKeyCallback, error) {
	cb, err := knownhosts.New(h.file)
	if errors.Is(err, fs.ErrNotExist) {
		return func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read known hosts %s: %w", h.file, unwrapPathError(err))
	}
	return cb, nil
}

func (h *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	h.err = h.verify(hostname, remote, key)
	return h.err
}

func (h *hostKeyChecker) verify(hostname string, remote net.Addr, key ssh.PublicKey) error {
	cb, err := h.load()
	if err != nil {
		return err
	}
	err = cb(hostname, remote, key)
	if err == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) > 0 || !h.accept {
		return h.explain(hostname, key, err)
	}

	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	// Re-read under the lock: a parallel dial may have just added it.
	if cb, err = h.load(); err != nil {
		return err
	}
	if err := cb(hostname, remote, key); err == nil {
		return nil
	} else if !errors.As(err, &ke) || len(ke.Want) > 0 {
		return h.explain(hostname, key, err)
	}
	return h.appendKey(hostname, key)
}

func (h *hostKeyChecker) explain(hostname string, key ssh.PublicKey, err error) error {
	name := knownhosts.Normalize(hostname)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("host key for %s is REVOKED in %s line %d; refusing to connect",
			name, Tildify(re.Revoked.Filename), re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) > 0:
		w := ke.Want[0]
		return fmt.Errorf("host key for %s has CHANGED: the server presents %s %s but %s line %d has a different key; "+
			"this may be a man-in-the-middle attack (if the host was reinstalled, delete that line and reconnect)",
			name, key.Type(), ssh.FingerprintSHA256(key), Tildify(w.Filename), w.Line)
	case errors.As(err, &ke):
		return fmt.Errorf("host key for %s is unknown (not in %s); re-run with --accept-new-host-keys to trust it (%s %s)",
			name, Tildify(h.file), key.Type(), ssh.FingerprintSHA256(key))
	}
	return err
}

// appendKey records a new host key like OpenSSH's accept-new: file and
// directories created private, "[addr]:port" form for non-22 ports, and
// hashed when asked or when the file already hashes its names (Debian's
// HashKnownHosts yes), so one file keeps one style.
func (h *hostKeyChecker) appendKey(hostname string, key ssh.PublicKey) error {
	name := knownhosts.Normalize(hostname)
	if h.hash || usesHashedNames(h.file) {
		name = knownhosts.HashHostname(name)
	}
	line := knownhosts.Line([]string{name}, key) + "\n"
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	f, err := os.OpenFile(h.file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	defer f.Close()
	// A hand-edited file may lack its final newline; don't glue lines.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := io.WriteString(f, line); err != nil {
		return fmt.Errorf("record host key in %s: %w", h.file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record host key in %s: %w", h.file, err)
	}
	return nil
}

// usesHashedNames reports whether a known_hosts file has hashed entries
// ("|1|salt|hash key-type key").
func usesHashedNames(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "|1|") {
			return true
		}
	}
	return false
}

var (
	probeKeyOnce sync.Once
	probeKey     ssh.PublicKey
)

// knownAlgorithms lists the host key algorithms of the keys already known
// for addr, for ClientConfig.HostKeyAlgorithms. Without it a server with
// ed25519 and ecdsa keys, known here by its ecdsa key, would negotiate
// ed25519 and look "changed" (OpenSSH orders algorithms the same way).
// Nil when nothing is known: then any algorithm is fine.
func (h *hostKeyChecker) knownAlgorithms(addr string) []string {
	cb, err := h.load()
	if err != nil {
		return nil
	}
	probeKeyOnce.Do(func() {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		probeKey, _ = ssh.NewPublicKey(pub)
	})
	// A throwaway key never matches, so the error lists the known keys.
	var ke *knownhosts.KeyError
	if !errors.As(cb(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, probeKey), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// Tildify shortens the home directory to "~" in messages (sshsettings
// shows paths the same way).
func Tildify(path string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return path
	}
	if path == home {
		return "~"
	}
	if strings.HasPrefix(path, home+string(filepath.Separator)) {
		return "~" + path[len(home):]
	}
	return path
}

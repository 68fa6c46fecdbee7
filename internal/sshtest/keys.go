package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ClientKey is a generated client key pair with its private half written
// to a file, as a transport's KeyFiles expects.
type ClientKey struct {
	Signer ssh.Signer
	Public ssh.PublicKey
	Path   string // OpenSSH-format private key file, mode 0600
}

// NewClientKey writes a fresh ed25519 key to a temp file. A non-empty
// passphrase encrypts it.
func NewClientKey(tb testing.TB, passphrase string) ClientKey {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("sshtest: generate key: %v", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "sshtest")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "sshtest", []byte(passphrase))
	}
	if err != nil {
		tb.Fatalf("sshtest: marshal key: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatalf("sshtest: write key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatalf("sshtest: signer: %v", err)
	}
	return ClientKey{Signer: signer, Public: signer.PublicKey(), Path: path}
}

// KnownHostsLine is the known_hosts line trusting the server's current
// primary host key at its address ("[127.0.0.1]:port" form).
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{s.Addr()}, s.HostKey())
}

// WriteKnownHosts writes a known_hosts file trusting the server and returns
// its path, for tests that are not about host key checking.
func (s *Server) WriteKnownHosts(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(s.KnownHostsLine()+"\n"), 0o600); err != nil {
		tb.Fatalf("sshtest: write known_hosts: %v", err)
	}
	return path
}

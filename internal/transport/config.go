// Package transport implements remote.Conn over one SSH connection per host:
// authentication (agent, key files, password), known_hosts checking with an
// opt-in accept-new, sudo for non-root logins, keepalive, one redial on a
// dropped connection, and atomic file writes over SFTP.
package transport

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Defaults applied to zero Config fields. The inventory has its own
// defaults; these only make a hand-built Config safe to use.
const (
	DefaultPort              = 22
	DefaultUser              = "root"
	DefaultConnectTimeout    = 10 * time.Second
	DefaultKeepaliveInterval = 15 * time.Second
)

// PromptFunc asks the operator for a secret (without echo) and returns it.
type PromptFunc func(prompt string) ([]byte, error)

// Config says how to reach and log in to one host.
type Config struct {
	Host    string // inventory name, used to prefix every message
	Address string // IP or DNS name; default Host
	Port    int    // default 22
	User    string // default root; any other user runs everything via `sudo -n`

	KeyFiles      []string // private keys; missing files are skipped
	UseAgent      bool     // try keys from $SSH_AUTH_SOCK first
	PasswordEnv   string   // name of the env var holding the login password
	PassphraseEnv string   // name of the env var holding the key passphrase
	// SudoPasswordEnv names the env var holding the sudo password of a
	// non-root user whose sudo asks for one; empty: sudo -n (no prompt).
	SudoPasswordEnv string

	// Prompt asks for a key passphrase when PassphraseEnv is unset or
	// empty. Nil means no terminal: an encrypted key is then an error.
	// TerminalPrompt() returns one only when stdin is a terminal.
	Prompt PromptFunc

	KnownHostsFile    string // default ~/.ssh/known_hosts
	AcceptNewHostKeys bool   // record unknown host keys (never changed ones)
	HashKnownHosts    bool   // record hashed host names, like HashKnownHosts=yes

	ConnectTimeout    time.Duration // TCP connect + SSH handshake; default 10s
	KeepaliveInterval time.Duration // default 15s; negative disables

	// Bastion is the jump host this host is reached through; its own
	// Bastion is the hop before it (ProxyJump a,b is b with a as its
	// Bastion). Nil dials directly. Its Host names it in messages and
	// defaults to "bastion user@address:port".
	Bastion *Config
	// Jumps shares bastion connections between the hosts of a run. Nil
	// gives the client a private one, closed with it.
	Jumps *Jumps

	// Progress receives an upload progress bar for large files. Nil means
	// os.Stderr when it is a terminal and nothing otherwise; io.Discard
	// turns it off.
	Progress io.Writer
}

// withDefaults returns a copy with every zero field given its default.
func (c Config) withDefaults() Config {
	if c.Address == "" {
		c.Address = c.Host
	}
	if c.Host == "" {
		c.Host = c.Address
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.KnownHostsFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			c.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
		}
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.KeepaliveInterval == 0 {
		c.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if c.Progress == nil {
		c.Progress = stderrProgress()
	}
	return c
}

// addr is the host:port to dial; net.JoinHostPort brackets IPv6 literals.
func (c Config) addr() string {
	return net.JoinHostPort(c.Address, strconv.Itoa(c.Port))
}

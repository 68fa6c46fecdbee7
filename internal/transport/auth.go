package transport

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/term"
)

// credentials are resolved once per Client, so that a redial neither
// re-prompts for a passphrase nor re-reads env vars that may have changed.
type credentials struct {
	useAgent  bool
	agentSock string
	keys      []ssh.Signer
	keyFiles  []string // the files the keys came from, for messages
	password  string
	pwEnv     string
	secret    []string // password and passphrases, for redaction
}

func (cr *credentials) secrets() []string {
	if cr == nil {
		return nil
	}
	return cr.secret
}

// describe names what was offered, never the secrets themselves.
func (cr *credentials) describe() string {
	var parts []string
	if cr.useAgent {
		parts = append(parts, "ssh-agent keys")
	}
	if len(cr.keyFiles) > 0 {
		parts = append(parts, "key "+strings.Join(cr.keyFiles, ", "))
	}
	if cr.password != "" {
		parts = append(parts, "password from $"+cr.pwEnv)
	}
	return strings.Join(parts, "; ")
}

// loadCredentials reads key files and secrets. Order of use at login:
// agent keys, key files (one "publickey" method, because x/crypto/ssh tries
// each method name only once), then the password.
func loadCredentials(cfg Config) (*credentials, error) {
	cr := &credentials{secret: envSecrets(cfg)}
	var missing []string
	if cfg.UseAgent {
		cr.agentSock = os.Getenv("SSH_AUTH_SOCK")
		cr.useAgent = cr.agentSock != ""
	}
	for _, path := range cfg.KeyFiles {
		s, pass, err := loadKey(path, cfg)
		if err != nil {
			return nil, err
		}
		if s == nil {
			missing = append(missing, path)
			continue
		}
		cr.keys = append(cr.keys, s)
		cr.keyFiles = append(cr.keyFiles, path)
		if pass != "" {
			cr.secret = append(cr.secret, pass)
		}
	}
	if cfg.PasswordEnv != "" {
		cr.password = os.Getenv(cfg.PasswordEnv)
		cr.pwEnv = cfg.PasswordEnv
		if cr.password != "" {
			cr.secret = append(cr.secret, cr.password)
		}
	}
	if !cr.useAgent && len(cr.keys) == 0 && cr.password == "" {
		return nil, errors.New(noCredentials(cfg, missing))
	}
	return cr, nil
}

// envSecrets are the secrets named by cfg's env vars, for redaction.
func envSecrets(cfg Config) []string {
	var s []string
	for _, name := range []string{cfg.PasswordEnv, cfg.PassphraseEnv, cfg.SudoPasswordEnv} {
		if v := os.Getenv(name); name != "" && v != "" {
			s = append(s, v)
		}
	}
	return s
}

func noCredentials(cfg Config, missing []string) string {
	var why []string
	if cfg.UseAgent {
		why = append(why, "SSH_AUTH_SOCK is not set")
	}
	if len(missing) > 0 {
		why = append(why, "key files not found: "+strings.Join(missing, ", "))
	} else if len(cfg.KeyFiles) == 0 {
		why = append(why, "no key files configured")
	}
	if cfg.PasswordEnv != "" {
		why = append(why, "$"+cfg.PasswordEnv+" is empty")
	}
	return "no usable credentials (" + strings.Join(why, "; ") + ")"
}

// passphraseCache holds keys decrypted with a typed passphrase, so that
// dialling 20 hosts with one key prompts once. Keys decrypted from an env
// var are cheap to redo and not cached. The mutex also serialises prompts:
// parallel dials must not read the terminal at the same time.
var passphraseCache = struct {
	sync.Mutex
	keys map[string]ssh.Signer
}{keys: map[string]ssh.Signer{}}

// loadKey returns (nil, "", nil) for a missing file. pass is the passphrase
// used, if any, so the caller can redact it.
func loadKey(path string, cfg Config) (signer ssh.Signer, pass string, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read key %s: %w", path, unwrapPathError(err))
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, "", fmt.Errorf("key %s: %w", path, err)
		}
		return s, "", nil
	}

	if cfg.PassphraseEnv != "" {
		if p := os.Getenv(cfg.PassphraseEnv); p != "" {
			s, err := ssh.ParsePrivateKeyWithPassphrase(data, []byte(p))
			if err != nil {
				return nil, p, passphraseError(path, "$"+cfg.PassphraseEnv, err)
			}
			return s, p, nil
		}
	}
	if cfg.Prompt == nil {
		how := "set a passphrase env var"
		if cfg.PassphraseEnv != "" {
			how = "set $" + cfg.PassphraseEnv
		}
		return nil, "", fmt.Errorf("key %s is encrypted: %s or run on a terminal", path, how)
	}

	abs, _ := filepath.Abs(path)
	passphraseCache.Lock()
	defer passphraseCache.Unlock()
	if s, ok := passphraseCache.keys[abs]; ok {
		return s, "", nil
	}
	p, err := cfg.Prompt("Enter passphrase for key " + path + ": ")
	if err != nil {
		return nil, "", fmt.Errorf("key %s: read passphrase: %w", path, err)
	}
	s, err = ssh.ParsePrivateKeyWithPassphrase(data, p)
	if err != nil {
		return nil, string(p), passphraseError(path, "the typed passphrase", err)
	}
	passphraseCache.keys[abs] = s
	return s, string(p), nil
}

func passphraseError(path, source string, err error) error {
	if errors.Is(err, x509.IncorrectPasswordError) {
		return fmt.Errorf("key %s: wrong passphrase (%s)", path, source)
	}
	return fmt.Errorf("key %s: cannot decrypt with %s: %w", path, source, err)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// methods builds the auth methods for one handshake; done closes the agent
// connection afterwards (signing happens during the handshake only).
func (cr *credentials) methods(dial func(network, addr string) (net.Conn, error)) (m []ssh.AuthMethod, done func()) {
	done = func() {}
	signers := append([]ssh.Signer(nil), cr.keys...)
	if cr.useAgent {
		if conn, err := dial("unix", cr.agentSock); err == nil {
			done = func() { conn.Close() }
			if as, err := agent.NewClient(conn).Signers(); err == nil {
				// Agent first: it is what the operator set up for this session.
				signers = append(as, signers...)
			}
		}
	}
	if len(signers) > 0 {
		m = append(m, ssh.PublicKeys(signers...))
	}
	if cr.password != "" {
		pw := cr.password
		m = append(m, ssh.Password(pw),
			// Many sshd configs offer the password only via
			// keyboard-interactive; answer a single hidden question with it.
			ssh.KeyboardInteractive(func(_, _ string, qs []string, echos []bool) ([]string, error) {
				if len(qs) == 1 && !echos[0] {
					return []string{pw}, nil
				}
				if len(qs) == 0 {
					return nil, nil
				}
				return nil, errors.New("unexpected keyboard-interactive questions")
			}))
	}
	return m, done
}

// TerminalPrompt returns a PromptFunc reading from the terminal without
// echo, or nil when stdin is not a terminal (CI, pipes): then an encrypted
// key without a passphrase env var is a clear error instead of a hang.
func TerminalPrompt() PromptFunc {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	return func(prompt string) ([]byte, error) {
		fmt.Fprint(os.Stderr, prompt)
		defer fmt.Fprintln(os.Stderr)
		return term.ReadPassword(fd)
	}
}

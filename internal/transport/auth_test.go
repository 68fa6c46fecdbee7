package transport

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/sshtest"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestKeyAuth(t *testing.T) {
	f := newFixture(t)
	c := dialT(t, f.cfg)
	res, err := c.Run(ctxT(t), "echo hi")
	if err != nil || res.Stdout != "hi\n" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if u := f.srv.Users(); len(u) != 1 || u[0] != "root" {
		t.Fatalf("server saw users %v, want [root]", u)
	}
	if c.Host() != "t58" || c.Sudo() {
		t.Fatalf("Host=%q Sudo=%v", c.Host(), c.Sudo())
	}
}

func TestWrongKeyRefused(t *testing.T) {
	f := newFixture(t)
	other := sshtest.NewClientKey(t, "")
	f.cfg.KeyFiles = []string{other.Path}
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: login as root refused", other.Path)
}

func TestMissingKeyFilesAreSkipped(t *testing.T) {
	f := newFixture(t)
	missing := filepath.Join(t.TempDir(), "id_rsa")
	f.cfg.KeyFiles = []string{missing, f.key.Path}
	dialT(t, f.cfg)

	f.cfg.KeyFiles = []string{missing}
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: no usable credentials", "key files not found: "+missing)
}

func TestPasswordFromEnv(t *testing.T) {
	const secret = "correct-horse-battery"
	f := newFixture(t, sshtest.WithPassword(secret))
	f.cfg.KeyFiles = nil
	f.cfg.PasswordEnv = "CLUSTERCTL_TEST_PW"
	t.Setenv("CLUSTERCTL_TEST_PW", secret)
	c := dialT(t, f.cfg)
	if _, err := c.Run(ctxT(t), "true"); err != nil {
		t.Fatal(err)
	}
}

// The error for a failed login must name what was tried, never the secret.
func TestWrongPasswordErrorHasNoSecret(t *testing.T) {
	const wrong = "wrong-password-Zq81"
	f := newFixture(t, sshtest.WithPassword("the-real-one"))
	f.cfg.KeyFiles = nil
	f.cfg.PasswordEnv = "CLUSTERCTL_TEST_PW"
	t.Setenv("CLUSTERCTL_TEST_PW", wrong)
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: login as root refused", "password from $CLUSTERCTL_TEST_PW")
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("error leaks the password: %q", err)
	}
}

func TestEncryptedKeyWithPassphraseEnv(t *testing.T) {
	const pass = "open-sesame-4711"
	key := sshtest.NewClientKey(t, pass)
	f := newFixture(t, sshtest.WithAuthorizedKey(key.Public))
	f.cfg.KeyFiles = []string{key.Path}
	f.cfg.PassphraseEnv = "CLUSTERCTL_TEST_PASS"

	t.Setenv("CLUSTERCTL_TEST_PASS", pass)
	dialT(t, f.cfg)

	t.Setenv("CLUSTERCTL_TEST_PASS", "not-the-passphrase-9")
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: key "+key.Path+": wrong passphrase ($CLUSTERCTL_TEST_PASS)")
	if strings.Contains(err.Error(), "not-the-passphrase-9") || strings.Contains(err.Error(), pass) {
		t.Fatalf("error leaks a passphrase: %q", err)
	}
}

func TestEncryptedKeyWithoutPassphraseOrTerminal(t *testing.T) {
	key := sshtest.NewClientKey(t, "secret-pass")
	f := newFixture(t, sshtest.WithAuthorizedKey(key.Public))
	f.cfg.KeyFiles = []string{key.Path}
	f.cfg.PassphraseEnv = "CLUSTERCTL_TEST_PASS"
	t.Setenv("CLUSTERCTL_TEST_PASS", "")
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: key "+key.Path+" is encrypted: set $CLUSTERCTL_TEST_PASS or run on a terminal")
}

func TestEncryptedKeyPromptIsAskedOnce(t *testing.T) {
	const pass = "typed-at-the-tty"
	key := sshtest.NewClientKey(t, pass)
	f := newFixture(t, sshtest.WithAuthorizedKey(key.Public))
	f.cfg.KeyFiles = []string{key.Path}
	prompts := 0
	f.cfg.Prompt = func(p string) ([]byte, error) {
		prompts++
		if !strings.Contains(p, key.Path) {
			t.Errorf("prompt %q does not name the key", p)
		}
		return []byte(pass), nil
	}
	dialT(t, f.cfg)
	dialT(t, f.cfg) // a second host with the same key
	if prompts != 1 {
		t.Fatalf("prompted %d times, want 1", prompts)
	}
}

func TestWrongTypedPassphraseIsNotCached(t *testing.T) {
	key := sshtest.NewClientKey(t, "right-one")
	f := newFixture(t, sshtest.WithAuthorizedKey(key.Public))
	f.cfg.KeyFiles = []string{key.Path}
	answers := []string{"wrong-one-typed", "right-one"}
	f.cfg.Prompt = func(string) ([]byte, error) {
		a := answers[0]
		answers = answers[1:]
		return []byte(a), nil
	}
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "wrong passphrase")
	if strings.Contains(err.Error(), "wrong-one-typed") {
		t.Fatalf("error leaks the passphrase: %q", err)
	}
	dialT(t, f.cfg)
}

func TestAgentAuth(t *testing.T) {
	key := sshtest.NewClientKey(t, "")
	f := newFixture(t, sshtest.WithAuthorizedKey(key.Public))
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: mustRawKey(t, key)}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	f.cfg.KeyFiles = nil
	f.cfg.UseAgent = true
	dialT(t, f.cfg)

	f.cfg.UseAgent = false
	_, err = Dial(ctxT(t), f.cfg)
	wantErr(t, err, "no usable credentials")
}

func TestErrorfRedactsSecrets(t *testing.T) {
	c := &Client{cfg: Config{Host: "h1"}, creds: &credentials{secret: []string{"hunter22", "abc"}}}
	err := c.errorf(nil, "bad %s and %s\nnext", "hunter22", "abc")
	if got, want := err.Error(), "h1: bad [redacted] and abc; next"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	var te *Error
	if !errors.As(err, &te) || te.Host != "h1" {
		t.Fatalf("not an *Error: %#v", err)
	}
}

func mustRawKey(t *testing.T, k sshtest.ClientKey) any {
	t.Helper()
	data, err := os.ReadFile(k.Path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

package transport

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/sshtest"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestUnknownHostKeyRefused(t *testing.T) {
	f := newFixture(t)
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(f.cfg.KnownHostsFile, []byte("# nothing yet\n"), 0o600)
	_, err := Dial(ctxT(t), f.cfg)
	hostport := "[127.0.0.1]:" + strconv.Itoa(f.srv.Port())
	wantErr(t, err, "t58: host key for "+hostport+" is unknown (not in "+f.cfg.KnownHostsFile+
		"); re-run with --accept-new-host-keys to trust it", ssh.FingerprintSHA256(f.srv.HostKey()))
}

func TestMissingKnownHostsMeansUnknown(t *testing.T) {
	f := newFixture(t)
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "no", "such", "known_hosts")
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "is unknown", "--accept-new-host-keys")
	if _, serr := os.Stat(f.cfg.KnownHostsFile); serr == nil {
		t.Fatal("known_hosts created without --accept-new-host-keys")
	}
}

func TestAcceptNewRecordsKey(t *testing.T) {
	f := newFixture(t)
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "ssh", "known_hosts")
	f.cfg.AcceptNewHostKeys = true
	dialT(t, f.cfg)

	b, err := os.ReadFile(f.cfg.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := knownhosts.Line([]string{f.srv.Addr()}, f.srv.HostKey()) + "\n"
	if string(b) != want {
		t.Fatalf("known_hosts = %q, want %q", b, want)
	}
	if !strings.HasPrefix(want, "[127.0.0.1]:") {
		t.Fatalf("line %q not in [addr]:port form", want)
	}
	st, _ := os.Stat(f.cfg.KnownHostsFile)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("known_hosts mode %v, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Dir(f.cfg.KnownHostsFile))
	if dst.Mode().Perm() != 0o700 {
		t.Fatalf("known_hosts dir mode %v, want 0700", dst.Mode().Perm())
	}

	f.cfg.AcceptNewHostKeys = false
	dialT(t, f.cfg) // trusted now, without the flag
	if b2, _ := os.ReadFile(f.cfg.KnownHostsFile); string(b2) != want {
		t.Fatalf("known_hosts changed on the second dial: %q", b2)
	}
}

func TestAcceptNewAppendsAfterLineWithoutNewline(t *testing.T) {
	f := newFixture(t)
	other := sshtest.NewSigner(t).PublicKey()
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	first := knownhosts.Line([]string{"10.250.0.9"}, other) // no trailing newline
	os.WriteFile(f.cfg.KnownHostsFile, []byte(first), 0o644)
	f.cfg.AcceptNewHostKeys = true
	dialT(t, f.cfg)
	b, _ := os.ReadFile(f.cfg.KnownHostsFile)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2 || lines[0] != first {
		t.Fatalf("known_hosts = %q", b)
	}
	f.cfg.AcceptNewHostKeys = false
	dialT(t, f.cfg)
}

func TestAcceptNewHashed(t *testing.T) {
	f := newFixture(t)
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	f.cfg.AcceptNewHostKeys = true
	f.cfg.HashKnownHosts = true
	dialT(t, f.cfg)
	b, _ := os.ReadFile(f.cfg.KnownHostsFile)
	if !strings.HasPrefix(string(b), "|1|") || strings.Contains(string(b), "127.0.0.1") {
		t.Fatalf("known_hosts line not hashed: %q", b)
	}
	f.cfg.AcceptNewHostKeys = false
	dialT(t, f.cfg)
}

func TestChangedHostKeyRefusedEvenWithAcceptNew(t *testing.T) {
	f := newFixture(t)
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	before := "# header\n" + f.srv.KnownHostsLine() + "\n"
	os.WriteFile(f.cfg.KnownHostsFile, []byte(before), 0o600)
	f.srv.SetHostKey(sshtest.NewSigner(t)) // same address, new key
	f.cfg.AcceptNewHostKeys = true
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: host key for [127.0.0.1]:"+strconv.Itoa(f.srv.Port())+" has CHANGED",
		f.cfg.KnownHostsFile+" line 2", "man-in-the-middle attack")
	if b, _ := os.ReadFile(f.cfg.KnownHostsFile); string(b) != before {
		t.Fatalf("known_hosts modified: %q", b)
	}
}

func ecdsaSigner(t *testing.T) ssh.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// x/crypto prefers ECDSA host keys to ed25519. A host known by its ed25519
// key that also has an ECDSA one must not look "changed" because ECDSA
// would be negotiated by default.
func TestKnownKeyTypeIsNegotiated(t *testing.T) {
	ed, ec := sshtest.NewSigner(t), ecdsaSigner(t)
	f := newFixture(t, sshtest.WithHostKey(ed, ec))
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(f.cfg.KnownHostsFile, []byte(knownhosts.Line([]string{f.srv.Addr()}, ed.PublicKey())+"\n"), 0o600)
	dialT(t, f.cfg)

	// Known only as ed25519, now offering only ECDSA: that is a change.
	f.srv.SetHostKey(ec)
	f.cfg.AcceptNewHostKeys = true
	_, err := Dial(ctxT(t), f.cfg)
	wantErr(t, err, "t58: host key for [127.0.0.1]:"+strconv.Itoa(f.srv.Port())+" has CHANGED",
		"knows it only by ssh-ed25519 keys and the server offers none of them", "man-in-the-middle")
}

// A file that already hashes its names (Debian's default for users) gets
// the new entry hashed too, and a hashed entry is honoured: the next dial
// without --accept-new-host-keys is accepted.
func TestAcceptNewFollowsTheFilesHashedStyle(t *testing.T) {
	f := newFixture(t)
	f.cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	other := knownhosts.HashHostname("10.9.9.9")
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ssh.NewPublicKey(pub)
	os.WriteFile(f.cfg.KnownHostsFile, []byte(knownhosts.Line([]string{other}, key)+"\n"), 0o600)
	f.cfg.AcceptNewHostKeys = true
	dialT(t, f.cfg)
	b, _ := os.ReadFile(f.cfg.KnownHostsFile)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "|1|") || strings.Contains(string(b), "127.0.0.1") {
		t.Fatalf("the new entry is not hashed like the file's: %q", b)
	}
	f.cfg.AcceptNewHostKeys = false
	dialT(t, f.cfg)
}

package sshtest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

func dial(t *testing.T, s *Server, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            "tester",
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(s.HostKey()),
		Timeout:         5 * time.Second,
	})
}

func mustDial(t *testing.T, s *Server, auth ...ssh.AuthMethod) *ssh.Client {
	t.Helper()
	c, err := dial(t, s, auth...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestListensOnLoopback(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Port() == 0 {
		t.Fatalf("Addr = %q, Port = %d", s.Addr(), s.Port())
	}
}

func TestKeyAuth(t *testing.T) {
	good, bad := NewClientKey(t, ""), NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(good.Public))
	mustDial(t, s, ssh.PublicKeys(good.Signer))
	if _, err := dial(t, s, ssh.PublicKeys(bad.Signer)); err == nil {
		t.Fatal("unauthorised key was accepted")
	}
	if got := s.Users(); len(got) != 1 || got[0] != "tester" {
		t.Fatalf("Users = %v, want [tester]", got)
	}
}

func TestPasswordAuth(t *testing.T) {
	s := Start(t, WithPassword("hunter2"))
	mustDial(t, s, ssh.Password("hunter2"))
	if _, err := dial(t, s, ssh.Password("nope")); err == nil {
		t.Fatal("wrong password was accepted")
	}
}

func TestNoAuthOptionRefusesEveryone(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t)
	if _, err := dial(t, s, ssh.PublicKeys(k.Signer), ssh.Password("")); err == nil {
		t.Fatal("login accepted without any authorised credential")
	}
}

func TestExec(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	c := mustDial(t, s, ssh.PublicKeys(k.Signer))

	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
	err = sess.Run("echo out; echo err >&2; pwd; exit 7")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 7 {
		t.Fatalf("Run err = %v, want exit status 7", err)
	}
	if want := "out\n" + s.HomeDir() + "\n"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
	if errb.String() != "err\n" {
		t.Errorf("stderr = %q, want %q", errb.String(), "err\n")
	}

	sess, _ = c.NewSession()
	if err := sess.Run("true"); err != nil {
		t.Fatalf("true: %v", err)
	}
	if got := s.Commands(); len(got) != 2 || got[1] != "true" {
		t.Fatalf("Commands = %q", got)
	}
}

func TestExecKilledBySignalReportsSignal(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	c := mustDial(t, s, ssh.PublicKeys(k.Signer))
	sess, _ := c.NewSession()
	err := sess.Run("kill -TERM $$")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Fatalf("err = %v, want exit signal TERM", err)
	}
}

func TestSFTP(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	c := mustDial(t, s, ssh.PublicKeys(k.Signer))
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	f, err := sc.Create("rel.txt") // relative: lands in the home dir
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("hello"))
	f.Close()
	got, err := os.ReadFile(filepath.Join(s.HomeDir(), "rel.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("file = %q, %v", got, err)
	}
	if _, ok := sc.HasExtension("posix-rename@openssh.com"); !ok {
		t.Error("posix-rename extension not offered")
	}
}

func TestKeepaliveAnswered(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	c := mustDial(t, s, ssh.PublicKeys(k.Signer))
	ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil || !ok {
		t.Fatalf("keepalive: ok=%v err=%v", ok, err)
	}
	if s.Keepalives() != 1 {
		t.Fatalf("Keepalives = %d, want 1", s.Keepalives())
	}
}

func TestDropConnectionsKillsCommandAndAllowsRedial(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	c := mustDial(t, s, ssh.PublicKeys(k.Signer))
	marker := filepath.Join(t.TempDir(), "marker")
	sess, _ := c.NewSession()
	done := make(chan error, 1)
	go func() { done <- sess.Run("sleep 2; touch " + marker) }()
	for i := 0; len(s.Commands()) == 0 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	s.DropConnections()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("command survived the dropped connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after DropConnections")
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("command kept running after its connection was dropped")
	}
	mustDial(t, s, ssh.PublicKeys(k.Signer))
}

func TestSetHostKey(t *testing.T) {
	k := NewClientKey(t, "")
	s := Start(t, WithAuthorizedKey(k.Public))
	old := s.HostKey()
	s.SetHostKey(NewSigner(t))
	if bytes.Equal(old.Marshal(), s.HostKey().Marshal()) {
		t.Fatal("HostKey unchanged")
	}
	_, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User: "x", Auth: []ssh.AuthMethod{ssh.PublicKeys(k.Signer)},
		HostKeyCallback: ssh.FixedHostKey(old), Timeout: 5 * time.Second,
	})
	if err == nil {
		t.Fatal("server still presents the old host key")
	}
	mustDial(t, s, ssh.PublicKeys(k.Signer)) // new key accepted
}

func TestWriteKnownHosts(t *testing.T) {
	s := Start(t)
	b, err := os.ReadFile(s.WriteKnownHosts(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "[127.0.0.1]:" + strconv.Itoa(s.Port()) + " ssh-ed25519 "
	if !strings.HasPrefix(string(b), want) {
		t.Fatalf("known_hosts = %q, want prefix %q", b, want)
	}
}

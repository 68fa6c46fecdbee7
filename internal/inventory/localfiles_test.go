package inventory

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// tarGz is a one-file gzip tarball, the shape CheckLocal wants of a JDK or
// Tomcat tarball.
func tarGz(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	body := []byte("#!/bin/sh\n")
	if err := tw.WriteHeader(&tar.Header{Name: "jdk/bin/java", Mode: 0o755, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	zw.Close()
	return b.Bytes()
}

// copyKey writes a fresh private key (encrypted with a non-empty
// passphrase) to path and returns its public half in authorized_keys form.
func copyKey(t *testing.T, path, passphrase string) []byte {
	t.Helper()
	k := sshtest.NewClientKey(t, passphrase)
	b, err := os.ReadFile(k.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(k.Public)
}

// A key file and a tarball that exist but are not what the hosts will need
// are refused at their lines before any host is contacted: a key that
// does not parse (a text file, a public key), a tarball that is not gzip
// or is gzip but no tar. A passphrase-protected key is a key.
func TestLocalFilesThatAreNotWhatTheyShouldBe(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	pub := copyKey(t, key, "")
	enc := filepath.Join(dir, "id_enc")
	copyKey(t, enc, "secret")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("apache-tomcat-9.0.70.tar.gz", tarGz(t))
	write("apache-tomcat-9.0.70.tar.gz.sha512", []byte("x"))
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	zw.Create("jdk/bin/java")
	zw.Close()
	var gzNoTar bytes.Buffer
	gw := gzip.NewWriter(&gzNoTar)
	gw.Write([]byte("just text, gzipped\n"))
	gw.Close()

	check := func(keyFile string, jdk []byte) error {
		write("jdk.tar.gz", jdk)
		text := strings.Replace(base, "ssh:\n", "ssh:\n  agent: false\n  key_files: ["+keyFile+"]\n", 1)
		text = strings.Replace(text, "java:\n", "artifacts:\n  dir: "+dir+"\njava:\n", 1)
		p := write("inventory.yaml", []byte(text))
		inv, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return inv.CheckLocal(true)
	}
	if err := check(key, tarGz(t)); err != nil {
		t.Fatalf("a real key and a real tarball: %v", err)
	}
	if err := check(enc, tarGz(t)); err != nil {
		t.Errorf("a passphrase-protected key: %v", err)
	}
	for _, tc := range []struct {
		name     string
		key      string
		jdk      []byte
		at, want string
	}{
		{"a text file as key", write("notes.txt", []byte("remember to rotate the keys\n")), tarGz(t), "inventory.yaml:7:15: ssh.key_files[0]:", "does not parse as a private key"},
		{"a public key as key", write("id_ed25519.pub", pub), tarGz(t), "inventory.yaml:7:15: ssh.key_files[0]:", "it is a public key"},
		{"a huge file as key", write("big", bytes.Repeat([]byte("A"), maxKeyFile+1)), tarGz(t), "inventory.yaml:7:15: ssh.key_files[0]:", "not a private key"},
		{"a zip as tarball", key, zipped.Bytes(), "inventory.yaml:25:12: java.tarball:", "not gzip-compressed"},
		{"gzip but no tar", key, gzNoTar.Bytes(), "inventory.yaml:25:12: java.tarball:", "gzip-compressed but not a tar archive"},
		{"an HTML error page", key, []byte("<html>404 Not Found</html>\n"), "inventory.yaml:25:12: java.tarball:", "not gzip-compressed"},
	} {
		err := check(tc.key, tc.jdk)
		if err == nil || !strings.Contains(err.Error(), tc.at) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %q and %q", tc.name, err, tc.at, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "rotate") {
			t.Errorf("%s: the error shows the file's content: %v", tc.name, err)
		}
	}
}

package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A key file that does not exist is skipped with a notice at its line when
// another key is there, as OpenSSH skips a missing IdentityFile; with no
// other way to log in it is an error at its line; one that exists but
// cannot be read is always an error.
func TestMissingKeyFilesAreSkippedWhileAnotherKeyIsThere(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := t.TempDir()
	have := filepath.Join(dir, "id_ed25519")
	copyKey(t, have, "")
	gone := filepath.Join(dir, "id_rsa")
	load := func(keys string) (*Inventory, error) {
		p := filepath.Join(dir, "inventory.yaml")
		text := strings.Replace(base, "ssh:\n", "ssh:\n  agent: false\n  key_files: ["+keys+"]\n", 1)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		inv, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		return inv, inv.CheckLocal(false)
	}
	keyNotices := func(inv *Inventory) (out []string) {
		for _, n := range inv.Notices {
			if strings.Contains(n, "key_files") {
				out = append(out, n)
			}
		}
		return out
	}
	inv, err := load(have + ", " + gone)
	if n := keyNotices(inv); err != nil || len(n) != 1 || !strings.Contains(n[0], "ssh.key_files[1]") || !strings.Contains(n[0], "skipped") || !strings.Contains(n[0], "inventory.yaml:7:") {
		t.Errorf("one key there, one missing: err %v, notices %q", err, n)
	}
	if err := inv.CheckLocal(false); err != nil || len(keyNotices(inv)) != 1 {
		t.Errorf("a second check: err %v, notices %q (want the notice once)", err, keyNotices(inv))
	}
	if _, err := load(gone); err == nil || !strings.Contains(err.Error(), "ssh.key_files[0]") || !strings.Contains(err.Error(), "missing or unreadable") {
		t.Errorf("the only key missing: %v, want an error at ssh.key_files[0]", err)
	}
	if os.Getuid() != 0 { // root reads a 000 file
		os.Chmod(have, 0)
		if _, err := load(have + ", " + gone); err == nil || !strings.Contains(err.Error(), "ssh.key_files[0]") {
			t.Errorf("an unreadable key: %v, want an error at ssh.key_files[0]", err)
		}
	}
}

package inventory

import (
	"reflect"
	"testing"
)

func TestTildeExpansionAndRelativePaths(t *testing.T) {
	inv := mustParse(t, editText(t, minimal, "cluster:\n", `ssh:
  key_files: [~/.ssh/id_ed25519, keys/lab_key, /etc/keys/k]
  known_hosts: ~/kh
artifacts:
  dir: ~/cache/artifacts
cluster:
`))
	wantKeys := []string{"/home/u/.ssh/id_ed25519", "/inv/keys/lab_key", "/etc/keys/k"}
	if !reflect.DeepEqual(inv.SSH.KeyFiles, wantKeys) {
		t.Errorf("key_files = %v, want %v", inv.SSH.KeyFiles, wantKeys)
	}
	if inv.SSH.KnownHosts != "/home/u/kh" {
		t.Errorf("known_hosts = %q", inv.SSH.KnownHosts)
	}
	if inv.Artifacts.Dir != "/home/u/cache/artifacts" {
		t.Errorf("artifacts.dir = %q", inv.Artifacts.Dir)
	}
	// Bare names are looked up in artifacts.dir; paths resolve like other paths.
	if got := inv.ArtifactPath("jdk.tar.gz"); got != "/home/u/cache/artifacts/jdk.tar.gz" {
		t.Errorf("ArtifactPath(bare) = %q", got)
	}
	if got := inv.ArtifactPath("../dl/jdk.tar.gz"); got != "/dl/jdk.tar.gz" {
		t.Errorf("ArtifactPath(relative) = %q", got)
	}
}

func TestResolvePath(t *testing.T) {
	cases := []struct{ in, home, want string }{
		{"~", "/h", "/h"},
		{"~/a/b", "/h", "/h/a/b"},
		{"./artifacts", "/h", "/base/artifacts"},
		{"../x", "/h", "/x"},
		{"/abs/./p", "/h", "/abs/p"},
		{"~bob/x", "/h", "~bob/x"}, // left for validation to reject
		{"~/x", "", "~/x"},         // home unknown: left for validation to reject
		{"", "/h", ""},
	}
	for _, c := range cases {
		if got := resolvePath(c.in, "/base", c.home); got != c.want {
			t.Errorf("resolvePath(%q, home %q) = %q, want %q", c.in, c.home, got, c.want)
		}
	}
}

func TestUnknownHomeIsReported(t *testing.T) {
	_, err := parse("inventory.yaml", []byte(minimal), "/inv", "")
	list := errorList(t, err)
	if len(list) != 1 || list[0].Field != "ssh.known_hosts" || list[0].Msg != `cannot expand "~/.ssh/known_hosts": the home directory is unknown ($HOME unset)` {
		t.Fatalf("got %v", err)
	}
}

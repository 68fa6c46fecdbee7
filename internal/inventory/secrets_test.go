package inventory

import (
	"strings"
	"testing"
)

// TestSecretsNeverEchoed: a password written into the inventory is an error,
// and no error message may repeat the secret.
func TestSecretsNeverEchoed(t *testing.T) {
	const secret = "hunter2XYZ"
	cases := []struct {
		name  string
		yaml  func(t *testing.T) string
		field string
		msg   string
	}{
		{"ssh.password", func(t *testing.T) string {
			return edit(t, "  user: root\n", "  user: root\n  ⇒password: "+secret+"\n")
		},
			"ssh.password", "secrets must not be written in the inventory: put it in an environment variable and name that variable in ssh.password_env"},
		{"per-host ssh password", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.58\n", "    address: 10.0.0.58\n    ssh: {user: admin, ⇒password: "+secret+"}\n")
		}, "hosts[1].ssh.password", "ssh.password_env"},
		{"passphrase", func(t *testing.T) string {
			return edit(t, "  user: root\n", "  user: root\n  ⇒Passphrase: "+secret+"\n")
		},
			"ssh.Passphrase", "ssh.passphrase_env"},
		{"password pasted into password_env", func(t *testing.T) string {
			return edit(t, "  user: root\n", "  user: root\n  password_env: ⇒\""+secret+" !\"\n")
		}, "ssh.password_env", "must be the NAME of an environment variable"},
		{"passphrase_env of the wrong type", func(t *testing.T) string {
			return edit(t, "  user: root\n", "  user: root\n  passphrase_env: ⇒["+secret+"]\n")
		}, "ssh.passphrase_env", "want a string, got a list"},
		{"number in password_env", func(t *testing.T) string {
			return edit(t, "  user: root\n", "  user: root\n  password_env: ⇒1234"+"5678\n")
		}, "ssh.password_env", "value not shown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err, line, col := singleErrorAtMarker(t, tc.yaml(t))
			if e.Line != line || e.Column != col || e.Field != tc.field || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %v\nwant %d:%d %s: ...%s...", e, line, col, tc.field, tc.msg)
			}
			for _, leak := range []string{secret, "12345678"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error echoes the secret: %v", err)
				}
			}
		})
	}
}

func TestPasswordEnvNameAccepted(t *testing.T) {
	inv := mustParse(t, edit(t, "  user: root\n", "  user: root\n  password_env: CLUSTERCTL_SSH_PASSWORD\n  passphrase_env: KEY_PASS\n"))
	if inv.SSH.PasswordEnv != "CLUSTERCTL_SSH_PASSWORD" || inv.SSH.PassphraseEnv != "KEY_PASS" {
		t.Fatalf("got %q %q", inv.SSH.PasswordEnv, inv.SSH.PassphraseEnv)
	}
}

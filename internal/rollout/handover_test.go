package rollout

import (
	"errors"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// The dump reads memcached where it listens now: an apply that changes
// memcached.port renders the new port before the old memcached restarts.
func TestMemcachedListener(t *testing.T) {
	const other = `LISTEN 0 100 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=90,fd=3))` + "\n"
	for _, c := range []struct{ name, ss, node, want string }{
		{"old port at the node address", other +
			`LISTEN 0 1024 127.0.0.1:11211 0.0.0.0:* users:(("memcached",pid=7,fd=27))` + "\n" +
			`LISTEN 0 1024 10.250.0.58:11211 0.0.0.0:* users:(("memcached",pid=7,fd=26))`,
			"10.250.0.58:11311", "10.250.0.58:11211"},
		{"loopback only", `LISTEN 0 1024 127.0.0.1%lo:11211 0.0.0.0:* users:(("memcached",pid=7,fd=26))`,
			"10.250.0.58:11211", "127.0.0.1:11211"},
		{"wildcard v6", `LISTEN 0 1024 [::]:11400 [::]:* users:(("memcached",pid=7,fd=26))`,
			"10.250.0.58:11211", "127.0.0.1:11400"},
		{"another address", `LISTEN 0 1024 10.9.9.9:11211 0.0.0.0:* users:(("memcached",pid=7,fd=26))`,
			"10.250.0.58:11211", "10.9.9.9:11211"},
		{"not running", other, "10.250.0.58:11211", ""},
	} {
		if got := memcachedListener(c.ss, c.node); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// Only a planned restart of a memcached that cannot be read is refused;
// one that answers, or one the run does not restart, lets the run go on.
func TestBlindRefusesOnlyPlannedUnreadableRestarts(t *testing.T) {
	full := map[string]error{"t58": errors.New("memcached at 10.250.0.58:11211 refuses connections: it is at its connection limit")}
	plan := Plan{Memcached: map[string][]engine.Deferred{"t68": nil}}
	if err := Blind(plan, full); err != nil {
		t.Errorf("t58 is not restarted, yet: %v", err)
	}
	if err := Blind(Plan{Memcached: map[string][]engine.Deferred{"t58": nil}}, nil); err != nil {
		t.Errorf("every memcached answers, yet: %v", err)
	}
	plan.Memcached["t58"] = nil
	err := Blind(plan, full)
	if err == nil || !strings.Contains(err.Error(), "restart memcached on t58,") || !strings.Contains(err.Error(), "connection limit") ||
		strings.Contains(err.Error(), "t68") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("refusal: %v", err)
	}
}

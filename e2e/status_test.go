//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type statusRun struct {
	Hosts []struct {
		Host      string
		Services  map[string]string
		Versions  map[string]string
		Drained   []string
		Memcached *struct {
			Items          int64
			LimitBytes     int64 `json:"limit_bytes"`
			Connections    int64
			MaxConnections int64 `json:"max_connections"`
		} `json:"memcached"`
		Tomcat *struct {
			Node     string
			NodeHost string `json:"node_host"`
			Failover bool
		}
	}
	Problems []string
}

func status(t *testing.T) (statusRun, int) {
	t.Helper()
	res := runCmd(t, labCmd(t, "status"))
	var st statusRun
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &st); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, res.Stdout)
	}
	return st, res.ExitCode
}

// status on the applied lab shows every service active, the versions,
// each memcached's fill and each Tomcat's regular node, and nothing to
// look at; with t68 drained at the proxy and t58's memcached stopped it
// names exactly those.
func TestStatusShowsTheRunningCluster(t *testing.T) {
	ensureApplied(t)
	waitProbe(t, 2*time.Minute)
	st, code := status(t)
	if code != 0 || len(st.Problems) != 0 || len(st.Hosts) != 3 {
		t.Fatalf("status of the applied lab: exit %d, problems %q", code, st.Problems)
	}
	for _, h := range st.Hosts {
		switch h.Host {
		case "proxy":
			if h.Services["nginx"] != "active" || h.Versions["nginx"] == "" {
				t.Errorf("proxy: %+v", h)
			}
		default:
			if h.Services["tomcat"] != "active" || h.Versions["msm"] != "2.3.2" || h.Versions["tomcat"] == "" || h.Memcached == nil || h.Memcached.LimitBytes != 64<<20 || h.Tomcat == nil || h.Tomcat.Failover || h.Tomcat.NodeHost == h.Host {
				t.Errorf("%s: %+v, memcached %+v, tomcat %+v", h.Host, h, h.Memcached, h.Tomcat)
			}
		}
	}
	RunOn(t, "proxy", "mkdir -p /var/lib/clusterctl/drained && touch /var/lib/clusterctl/drained/t68")
	t.Cleanup(func() { RunOn(t, "proxy", "rm -f /var/lib/clusterctl/drained/t68") })
	StopService(t, "t58", "memcached")
	t.Cleanup(func() { StartService(t, "t58", "memcached") })
	st, code = status(t)
	got := strings.Join(st.Problems, "\n")
	for _, want := range []string{"proxy: t68 is drained here", "t58: memcached is inactive", "t58: memcached does not answer stats"} {
		if !strings.Contains(got, want) {
			t.Errorf("status with t68 drained and t58's memcached stopped lacks %q:\n%s", want, got)
		}
	}
	if code != 0 {
		t.Errorf("status exits %d: every host could be read", code)
	}
}

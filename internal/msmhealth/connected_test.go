package msmhealth

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/topology"
)

// The connection check reads ss's view of the JVM's sockets, IPv6 ones
// with IPv4-mapped peers as Tomcat has them, and names the node it lacks;
// an sshd tunnel's connection to a node does not count.
func TestConnectedScriptNamesTheMissingNode(t *testing.T) {
	topo := &topology.Topology{Nodes: []topology.Node{
		{ID: "n1", Host: "t58", Address: "10.250.0.58", Port: 11211},
		{ID: "n2", Host: "t68", Address: "10.250.0.68", Port: 11211},
	}}
	run := func(ssOut string) (string, int) {
		dir := t.TempDir()
		stub := "#!/bin/sh\ncat <<'X'\n" + ssOut + "\nX\n"
		if err := writeExec(dir+"/ss", stub); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "-c", connectedScript(topo))
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin"}
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out)), cmd.ProcessState.ExitCode()
	}
	both := `0 0 [::ffff:10.250.0.58]:58466 [::ffff:10.250.0.58]:11211 users:(("java",pid=1051,fd=49))
0 0 [::ffff:10.250.0.58]:60168 [::ffff:10.250.0.68]:11211 users:(("java",pid=1051,fd=50))`
	if out, rc := run(both); rc != 0 || out != "" {
		t.Errorf("connected to both nodes: exit %d, %q", rc, out)
	}
	one := `0 0 [::ffff:10.250.0.58]:58466 [::ffff:10.250.0.58]:11211 users:(("java",pid=1051,fd=49))
0 0 10.250.0.58:40000 10.250.0.68:11211 users:(("sshd",pid=9,fd=4))`
	if out, rc := run(one); rc != 1 || !strings.Contains(out, "MISSING n2 (10.250.0.68:11211)") || strings.Contains(out, "n1") {
		t.Errorf("connected to n1 only (n2 by sshd): exit %d, %q", rc, out)
	}
}

func writeExec(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o755)
}

package status

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
)

func lab(t *testing.T) (*inventory.Inventory, *topology.Topology) {
	t.Helper()
	inv, err := inventory.Parse("lab.yaml", []byte(`cluster: {name: lab, domain: lab.test, timezone: UTC}
ssh: {user: root, agent: false, known_hosts: /dev/null}
hosts:
  - {name: proxy, address: 10.0.0.8, roles: [proxy]}
  - {name: t58, address: 10.0.0.58, roles: [tomcat, memcached]}
  - {name: t68, address: 10.0.0.68, roles: [tomcat, memcached]}
java: {install: tarball, tarball: jdk.tar.gz}
tomcat: {version: 9.0.70, tarball: tomcat.tar.gz, sha512: `+strings.Repeat("a", 128)+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	topo, err := topology.Build(inv)
	if err != nil {
		t.Fatal(err)
	}
	return inv, topo
}

// What t58 prints for Script, as the lab's hosts print it.
const t58Out = `## services
tomcat active
memcached active
## versions
java openjdk version "17.0.15" 2025-04-15
tomcat apache-tomcat-9.0.70
msm memcached-session-manager-2.3.2.jar
memcached memcached 1.6.18
## pending
rollout.restart-tomcat
## lock
## stats
STAT pid 123
STAT curr_items 40
STAT bytes 1258291
STAT limit_maxbytes 67108864
STAT evictions 0
STAT curr_connections 1000
STAT max_connections 1024
## probe
HTTP/1.1 200 
Set-Cookie: JSESSIONID=5C9B50596DE1CEFDC42262162D657E82-n1.t58; Path=/probe; HttpOnly
`

// Each section is read; what an operator must look at is named: the
// pending restart, memcached near its connection limit, new sessions on
// the failover node, and on the proxy a drained Tomcat and a stopped nginx.
func TestStatusReadsEachSection(t *testing.T) {
	inv, topo := lab(t)
	st := Host{Name: "t58", Roles: []string{"tomcat", "memcached"}, Services: map[string]string{}, Versions: map[string]string{}}
	parse(&st, t58Out, topo)
	if st.Versions["java"] != "17.0.15" || st.Versions["tomcat"] != "9.0.70" || st.Versions["msm"] != "2.3.2" || st.Versions["memcached"] != "1.6.18" {
		t.Errorf("versions %v", st.Versions)
	}
	if m := st.Memcached; m == nil || m.Items != 40 || m.LimitBytes != 64<<20 || m.Connections != 1000 || m.MaxConnections != 1024 {
		t.Errorf("memcached %+v", st.Memcached)
	}
	if tc := st.Tomcat; tc == nil || tc.Node != "n1" || tc.NodeHost != "t58" || !tc.Failover {
		t.Errorf("tomcat %+v (n1 is t58's own memcached: its failover node)", st.Tomcat)
	}
	proxy := Host{Name: "proxy", Roles: []string{"proxy"}, Services: map[string]string{}, Versions: map[string]string{}}
	parse(&proxy, "## services\nnginx inactive\n## versions\nnginx nginx version: nginx/1.22.1\n## pending\n## lock\nrun=abc clusterctl apply\n## drained\nt68\n", topo)
	if proxy.Versions["nginx"] != "1.22.1" || len(proxy.Drained) != 1 || proxy.Lock == "" {
		t.Errorf("proxy %+v", proxy)
	}
	problems := strings.Join(Problems([]Host{proxy, st}), "\n")
	for _, want := range []string{"proxy: nginx is inactive", "proxy: t68 is drained here", "t58: restarts left pending", "t58: memcached has 1000 of 1024 connections", "t58: new sessions go to n1 (t58), its failover node"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	var b bytes.Buffer
	Text(&b, []Host{proxy, st})
	if out := b.String(); !strings.Contains(out, "run lock: held on proxy") || !strings.Contains(out, "n1 (t58's memcached), its failover node") {
		t.Errorf("text:\n%s", out)
	}
	healthy := st
	healthy.Pending, healthy.Memcached, healthy.Tomcat = nil, &Memcached{Connections: 10, MaxConnections: 1024}, &Tomcat{Node: "n2", NodeHost: "t68"}
	if ps := Problems([]Host{healthy}); len(ps) != 0 {
		t.Errorf("a healthy host has problems: %q", ps)
	}
	_ = inv
}

// The script each role gets parses as bash.
func TestStatusScriptIsValidShell(t *testing.T) {
	inv, topo := lab(t)
	for _, name := range []string{"proxy", "t58"} {
		h, _ := inv.Host(name)
		if out, err := exec.Command("bash", "-n", "-c", Script(inv, topo, h)).CombinedOutput(); err != nil {
			t.Errorf("%s: %v %s", name, err, out)
		}
	}
}

package playbooks

import (
	"fmt"
	"slices"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/preflight"
)

// What each host must offer, per role and family: the ports and the units
// that may hold them, the distribution Tomcat to refuse, the tarballs.
func TestPreflightNeedsPerRoleAndFamily(t *testing.T) {
	inv := labArtifacts(t)
	c, err := NewCluster(inv)
	if err != nil {
		t.Fatal(err)
	}
	needs := func(host, osRelease string) preflight.Needs {
		t.Helper()
		for _, ih := range inv.AllHosts() {
			if ih.Name == host {
				h := engine.NewHost(newPristine(host), nil)
				h.Facts = engine.ParseOSRelease([]byte(osRelease))
				n, err := c.PreflightNeeds(h)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatalf("no host %s", host)
		return preflight.Needs{}
	}
	ports := func(n preflight.Needs) []string {
		var out []string
		for _, p := range n.Ports {
			out = append(out, fmt.Sprintf("%d %s", p.Port, p.Unit))
		}
		return out
	}
	conflicts := func(n preflight.Needs) []string {
		var out []string
		for _, cf := range n.Conflicts {
			out = append(out, cf.Package)
		}
		return out
	}
	proxy := needs("proxy", rocky9)
	if got := ports(proxy); !slices.Equal(got, []string{"80 nginx.service"}) || len(proxy.Disk) != 0 || proxy.Address != "192.168.250.8" {
		t.Errorf("proxy: ports %q, disk %d, address %s", got, len(proxy.Disk), proxy.Address)
	}
	t58 := needs("t58", rocky9)
	if got := ports(t58); !slices.Equal(got, []string{"8080 tomcat.service", "8005 tomcat.service", "11211 memcached.service"}) {
		t.Errorf("t58 ports: %q", got)
	}
	if got := conflicts(t58); !slices.Equal(got, []string{"tomcat"}) {
		t.Errorf("rocky conflicts: %q", got)
	}
	if got := conflicts(needs("t58", debian12)); !slices.Equal(got, []string{"tomcat9", "tomcat10", "tomcat11"}) {
		t.Errorf("debian conflicts: %q", got)
	}
	var what []string
	for _, d := range t58.Disk {
		what = append(what, d.What+" -> "+d.Path+" unless "+d.Present)
		if n, err := d.Bytes(); err != nil || n <= 0 {
			t.Errorf("%s: %d bytes, %v", d.What, n, err)
		}
	}
	want := []string{
		"JDK tarball -> /usr/local/src/clusterctl/jdk-8u291-linux-x64.tar.gz unless /usr/local/jdk1.8.0_291",
		"JDK unpacked -> /usr/local unless /usr/local/jdk1.8.0_291",
		"Tomcat tarball -> /usr/local/src/clusterctl/apache-tomcat-8.5.78.tar.gz unless /usr/local/apache-tomcat-8.5.78",
		"Tomcat unpacked -> /usr/local unless /usr/local/apache-tomcat-8.5.78",
	}
	if !slices.Equal(what, want) {
		t.Errorf("disk needs:\n%q\nwant\n%q", what, want)
	}
	pkg := labArtifacts(t, "install: tarball", "install: package", "  tarball: jdk-8u291-linux-x64.tar.gz\n", "")
	cp, _ := NewCluster(pkg)
	c = cp
	inv = pkg
	if d := needs("t58", rocky9).Disk; len(d) != 2 {
		t.Errorf("java.install package: %d disk needs, want only Tomcat's 2", len(d))
	}
}

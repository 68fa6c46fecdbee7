package playbooks

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
		return each(n.Ports, func(p preflight.Port) string { return fmt.Sprintf("%d %s", p.Port, p.Unit) })
	}
	conflicts := func(n preflight.Needs) []string {
		return each(n.Conflicts, func(c preflight.Conflict) string { return c.Package })
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
	var want []string // each tarball: staged, then unpacked, neither once unpacked
	for _, a := range [][3]string{{"JDK", "jdk-8u291-linux-x64.tar.gz", "jdk1.8.0_291"}, {"Tomcat", "apache-tomcat-8.5.78.tar.gz", "apache-tomcat-8.5.78"}} {
		want = append(want, a[0]+" tarball -> /usr/local/src/clusterctl/"+a[1]+" unless /usr/local/"+a[2], a[0]+" unpacked -> /usr/local unless /usr/local/"+a[2])
	}
	if !slices.Equal(what, want) {
		t.Errorf("disk needs:\n%q\nwant\n%q", what, want)
	}
	mem := func(n preflight.Needs) []string {
		return each(n.Memory, func(m preflight.Memory) string { return fmt.Sprintf("%s %d", m.What, m.Bytes>>20) })
	}
	if got := mem(t58); !slices.Equal(got, []string{"memcached's cache (memcached.memory_mb) 64"}) || len(proxy.Memory) != 0 {
		t.Errorf("memory needs: t58 %q (no heap set: the JVM's default follows the host), proxy %d", got, len(proxy.Memory))
	}
	inv.Tomcat.HeapMB = 1024
	if got := mem(needs("t58", debian12)); !slices.Equal(got, []string{"Tomcat's heap (tomcat.heap_mb / -Xmx) 1024", "memcached's cache (memcached.memory_mb) 64"}) {
		t.Errorf("memory needs with heap_mb 1024: %q", got)
	}
	inv.Tomcat.HeapMB = 0
	pkg := labArtifacts(t, "install: tarball", "install: package", "  tarball: jdk-8u291-linux-x64.tar.gz\n", "")
	cp, _ := NewCluster(pkg)
	c = cp
	inv = pkg
	if d := needs("t58", rocky9).Disk; len(d) != 2 {
		t.Errorf("java.install package: %d disk needs, want only Tomcat's 2", len(d))
	}
}

// A host records the settings it finished rolling with; a later inventory
// that changes one no rollout keeps unnoticed is named per host, and one
// that changes nothing of the kind (or a host never recorded) is not.
func TestDisruptiveChangesComparesWithTheRecord(t *testing.T) {
	inv := labArtifacts(t)
	c, _ := NewCluster(inv)
	hosts := map[string]*engine.Host{}
	var all []*engine.Host
	for _, ih := range inv.AllHosts() {
		h := engine.NewHost(newPristine(ih.Name), nil)
		h.Facts = engine.ParseOSRelease([]byte(debian12))
		hosts[ih.Name] = h
		all = append(all, h)
	}
	ctx := context.Background()
	if got, err := c.DisruptiveChanges(ctx, all); err != nil || len(got) != 0 {
		t.Fatalf("never recorded: %q %v", got, err)
	}
	for _, h := range all {
		if _, err := engine.RunStep(ctx, h, "after rollout", c.LiveSettingsStep(), engine.Options{StateDir: t.TempDir()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.DisruptiveChanges(ctx, all); len(got) != 0 {
		t.Fatalf("same inventory: %q", got)
	}
	moved := labArtifacts(t, "  port: 8080", "  port: 8081", "balance: sticky", "balance: ip_hash")
	cm, _ := NewCluster(moved)
	got, err := cm.DisruptiveChanges(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`t58: tomcat.port "8080" -> "8081"`, `t68: tomcat.port "8080" -> "8081"`}
	if len(got) != len(want) {
		t.Fatalf("changes %q, want %q (nginx.balance rolls unnoticed)", got, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) || !strings.Contains(got[i], "requests fail") {
			t.Errorf("change %d: %q, want %q and why", i, got[i], w)
		}
	}
}

// each maps xs through f.
func each[T any](xs []T, f func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

package playbooks

import (
	"os"
	"path"
	"strconv"

	"github.com/clusterctl/clusterctl/internal/artifacts"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/preflight"
)

// PreflightNeeds is what host h must offer before apply touches it: the
// ports its plays make services listen on, with the unit that will own
// each; the distribution packages that would fight ours; and the space the
// tarballs take where the java and tomcat plays put them.
func (c *Cluster) PreflightNeeds(h *engine.Host) (preflight.Needs, error) {
	ih := c.host(h)
	inv := c.Inv
	// DisruptiveChanges reads the live settings next: in the same batch.
	n := preflight.Needs{Address: ih.Address, Probes: []string{LiveSettingsProbe()}}
	if ih.Has(inventory.RoleProxy) {
		n.Ports = append(n.Ports, preflight.Port{Port: inv.Nginx.Listen, What: "nginx", Unit: "nginx.service"})
	}
	if ih.Has(inventory.RoleTomcat) {
		n.Ports = append(n.Ports, preflight.Port{Port: inv.Tomcat.Port, What: "tomcat http", Unit: "tomcat.service"})
		if inv.Tomcat.ShutdownPort > 0 {
			n.Ports = append(n.Ports, preflight.Port{Port: inv.Tomcat.ShutdownPort, What: "tomcat shutdown", Unit: "tomcat.service"})
		}
		f, err := c.target(h).family()
		if err != nil {
			return n, err
		}
		for _, p := range f.DistroTomcat {
			n.Conflicts = append(n.Conflicts, preflight.Conflict{Package: p,
				Why: "the distribution's Tomcat runs its own service on the same ports and would take " + strconv.Itoa(inv.Tomcat.Port) + " back at boot"})
		}
		if inv.Java.Install != inventory.JavaPackage {
			n.Disk = append(n.Disk, c.tarballDisk("JDK", inv.ArtifactPath(inv.Java.Tarball), path.Dir(inv.Java.Home))...)
		}
		n.Disk = append(n.Disk, c.tarballDisk("Tomcat", inv.ArtifactPath(inv.Tomcat.Tarball), inv.Tomcat.Prefix)...)
		if heap := inv.Tomcat.MaxHeapBytes(); heap > 0 {
			n.Memory = append(n.Memory, preflight.Memory{What: "Tomcat's heap (tomcat.heap_mb / -Xmx)", Bytes: heap})
		}
	}
	if ih.Has(inventory.RoleMemcached) {
		n.Ports = append(n.Ports, preflight.Port{Port: inv.Memcached.Port, What: "memcached", Unit: "memcached.service"})
		n.Memory = append(n.Memory, preflight.Memory{What: "memcached's cache (memcached.memory_mb)", Bytes: int64(inv.Memcached.MemoryMB) << 20})
	}
	return n, nil
}

// tarballDisk is the space one tarball takes: staged, then unpacked into
// dest; none once unpacked (unlessUnpacked skips the upload then too).
func (c *Cluster) tarballDisk(what, local, dest string) []preflight.Disk {
	present := ""
	if top, err := c.local.get("top:"+local, func() (string, error) { return artifacts.TopDir(local) }); err == nil {
		present = path.Join(dest, top)
	}
	size := func() (int64, error) {
		st, err := os.Stat(local)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
	unpacked := func() (int64, error) {
		v, err := c.local.get("unpacked:"+local, func() (string, error) {
			n, err := artifacts.UnpackedSize(local)
			return strconv.FormatInt(n, 10), err
		})
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(v, 10, 64)
	}
	return []preflight.Disk{
		{What: what + " tarball", Path: stagedPath(local), Present: present, Bytes: size},
		{What: what + " unpacked", Path: dest, Present: present, Bytes: unpacked},
	}
}

package inventory

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"text/template"
)

// StarterOptions are what `clusterctl init` asks for; the rest of the
// starter inventory is defaults, written out and commented.
type StarterOptions struct {
	Name, Domain, Timezone string
	User                   string
	KeyFiles               []string
	Proxies, Tomcats       []string // addresses
}

// starterHost is one host of the starter.
type starterHost struct {
	Name, Address string
	Roles         string
}

// Starter writes a commented inventory for the given hosts, with the
// seed's layout (every Tomcat host runs memcached too) and names the
// seed's way: a Tomcat at 10.0.0.58 is t58. It is parsed and validated
// before it is returned: what `init` writes loads as it is.
func Starter(o StarterOptions) ([]byte, error) {
	if len(o.Proxies) == 0 || len(o.Tomcats) == 0 {
		return nil, fmt.Errorf("a cluster needs a proxy and at least one Tomcat host: give --proxy ADDRESS and --tomcat ADDRESS (repeat --tomcat for each)")
	}
	var hosts []starterHost
	taken := map[string]bool{}
	name := func(prefix, addr string, i, of int) string {
		n := prefix
		if of > 1 || prefix == "t" {
			n = prefix + strconv.Itoa(i+1)
		}
		if a, err := netip.ParseAddr(addr); err == nil && a.Is4() && prefix == "t" {
			n = prefix + strconv.Itoa(int(a.As4()[3]))
		}
		// A second t58 (same last octet elsewhere) is t58b: the name is
		// also the fqdn's first label, which takes no "_".
		for base, k := n, 'b'; taken[n]; k++ {
			n = base + string(k)
		}
		taken[n] = true
		return n
	}
	for i, a := range o.Proxies {
		hosts = append(hosts, starterHost{Name: name("proxy", a, i, len(o.Proxies)), Address: a, Roles: "[proxy]"})
	}
	for i, a := range o.Tomcats {
		hosts = append(hosts, starterHost{Name: name("t", a, i, len(o.Tomcats)), Address: a, Roles: "[tomcat, memcached]"})
	}
	var b bytes.Buffer
	if err := starterTmpl.Execute(&b, struct {
		StarterOptions
		Hosts []starterHost
	}{o, hosts}); err != nil {
		return nil, err
	}
	if _, err := Parse("inventory.yaml", b.Bytes()); err != nil {
		return nil, fmt.Errorf("the starter inventory for these values does not load: %w", err)
	}
	return b.Bytes(), nil
}

var starterTmpl = template.Must(template.New("inventory").Parse(`# yaml-language-server: $schema=inventory.schema.json
# clusterctl inventory, written by clusterctl init: a Tomcat + memcached
# session cluster behind nginx, memcached-session-manager in sticky mode
# (each Tomcat keeps its sessions and backs each one up to the memcached on
# the next host; its own memcached is the failover node).
#
# Next: put the Tomcat tarball (and, with java.install: tarball, the JDK)
# into artifacts/, then
#   clusterctl apply --dry-run     # what would change; this file with every default
#   clusterctl apply
#   clusterctl verify
apiVersion: clusterctl/v1
kind: Cluster

cluster:
  name: {{.Name}}
  domain: {{.Domain}}            # each host's fqdn is name.domain unless hosts[].fqdn says otherwise
  timezone: {{.Timezone}}
  # ntp_servers: [pool.ntp.org]   # the first proxy serves time to the others
  manage_firewall: true          # open the cluster's ports in an active firewalld/ufw

ssh:
  user: {{.User}}                # not root: it needs passwordless sudo
  port: 22
  key_files: [{{range $i, $k := .KeyFiles}}{{if $i}}, {{end}}{{$k}}{{end}}]   # a missing one is skipped while another works
  agent: true
  known_hosts: ~/.ssh/known_hosts
  connect_timeout: 10s
  # bastion: {address: jump.example.com, user: ops}

# name: letters, digits and _ only: it is the Tomcat jvmRoute.
hosts:
{{- range .Hosts}}
  - name: {{.Name}}
    address: {{.Address}}
    roles: {{.Roles}}
{{- end}}

artifacts:
  dir: ./artifacts

java:
  install: package              # the distribution's OpenJDK; or tarball (set java.tarball)

tomcat:
  version: 9.0.70               # 8.5.x or 9.0.x (MSM 2.3.x has no Tomcat 10)
  tarball: apache-tomcat-9.0.70.tar.gz   # in artifacts/, with its .sha512 beside it
  port: 8080

memcached:
  port: 11211
  memory_mb: 64
  max_connections: 1024

msm:
  version: 2.3.2
  sticky: true
  serializer: java

nginx:
  listen: 80
  balance: sticky               # route on the jvmRoute in JSESSIONID

# The operator's web applications (see README: The operator's apps):
# apps:
#   - name: shop
#     war: shop.war               # in artifacts/
#     path: /shop
#     health: /health.jsp
`))

package inventory

import (
	"fmt"
	"strings"
	"testing"
)

// TestErrors: each bad inventory must produce exactly one error (no noisy
// follow-ups), at the ⇒ marker, on the given field, with a message saying what
// is wrong.
func TestErrors(t *testing.T) {
	const extraHost = "java:\n" // where a 4th host is appended to hosts
	cases := []struct {
		name  string
		yaml  func(t *testing.T) string
		field string
		msg   string // substring of Error.Msg
	}{
		// unknown keys, at every level
		{"unknown top-level key", func(t *testing.T) string { return edit(t, "cluster:\n", "⇒colour: blue\ncluster:\n") },
			"colour", `unknown key "colour"`},
		{"unknown key in ssh, with suggestion", func(t *testing.T) string { return edit(t, "  port: 22", "  ⇒prot: 22") },
			"ssh.prot", `unknown key "prot"; did you mean "port"?`},
		{"unknown key inside a host", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.58\n", "    address: 10.0.0.58\n    ⇒adress: 10.0.0.59\n")
		}, "hosts[1].adress", `unknown key "adress"; did you mean "address"?`},
		{"unknown key in per-host ssh", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.58\n", "    address: 10.0.0.58\n    ssh: {⇒agent: false}\n")
		}, "hosts[1].ssh.agent", `unknown key "agent"`},

		// wrong types
		{"string where int", func(t *testing.T) string { return edit(t, "port: 22", "port: ⇒twenty-two") },
			"ssh.port", `want an integer, got string "twenty-two"`},
		{"number where int", func(t *testing.T) string { return edit(t, "  port: 11211\n", "  port: 11211\n  memory_mb: ⇒1.5\n") },
			"memcached.memory_mb", "want an integer, got number 1.5"},
		{"scalar where list", func(t *testing.T) string { return edit(t, "roles: [proxy]", "roles: ⇒proxy") },
			"hosts[0].roles", `want a list, got string "proxy"`},
		{"map where list", func(t *testing.T) string {
			return edit(t, "  timezone: UTC\n", "  timezone: UTC\n  ntp_servers: ⇒{a: b}\n")
		}, "cluster.ntp_servers", "want a list, got a map"},
		{"list where map", func(t *testing.T) string { return edit(t, "memcached:\n  port: 11211\n", "memcached: ⇒[11211]\n") },
			"memcached", "want a map, got a list"},
		{"boolean where string", func(t *testing.T) string { return edit(t, "user: root", "user: ⇒true") },
			"ssh.user", "want a string, got boolean true"},
		{"string where boolean", func(t *testing.T) string { return edit(t, "sticky: true", "sticky: ⇒yes") },
			"msm.sticky", `want true or false, got string "yes"`},
		{"hosts is a map", func(t *testing.T) string {
			return edit(t, "hosts:\n  - name: proxy", "hosts:\n  ⇒name: x\n  list:\n  - name: proxy")
		}, "hosts", "want a list, got a map"},

		// the schema's version
		{"unknown apiVersion", func(t *testing.T) string { return edit(t, "cluster:\n", "apiVersion: ⇒clusterctl/v2\ncluster:\n") },
			"apiVersion", `"clusterctl/v2" is not a version this clusterctl reads (it reads clusterctl/v1)`},
		{"wrong kind", func(t *testing.T) string { return edit(t, "cluster:\n", "kind: ⇒Deployment\ncluster:\n") },
			"kind", "an inventory is kind Cluster"},

		// values written into shell scripts, unit files and configs
		{"command substitution in java.home", func(t *testing.T) string {
			return edit(t, "  tarball: jdk.tar.gz\n", "  tarball: jdk.tar.gz\n  home: ⇒/usr/local/jdk$(touch /tmp/x)\n")
		}, "java.home", "may hold only letters, digits and ._+@- between single slashes"},
		{"space in tomcat.prefix", func(t *testing.T) string {
			return edit(t, "  version: 9.0.70\n", "  version: 9.0.70\n  prefix: ⇒\"/opt/my apps\"\n")
		}, "tomcat.prefix", "may hold only letters, digits"},
		{"dot-dot in java.home", func(t *testing.T) string {
			return edit(t, "  tarball: jdk.tar.gz\n", "  tarball: jdk.tar.gz\n  home: ⇒/usr/local/../jdk\n")
		}, "java.home", `must not contain ".."`},
		{"trailing slash in tomcat.prefix", func(t *testing.T) string {
			return edit(t, "  version: 9.0.70\n", "  version: 9.0.70\n  prefix: ⇒/opt/\n")
		}, "tomcat.prefix", "no trailing slash"},
		{"shell in a tarball's name", func(t *testing.T) string { return edit(t, "tarball: jdk.tar.gz", "tarball: ⇒\"jdk;reboot.tar.gz\"") },
			"java.tarball", "may hold only letters, digits and ._+-"},
		{"shell in java.package", func(t *testing.T) string {
			return edit(t, "  install: tarball\n  tarball: jdk.tar.gz\n", "  install: package\n  package: ⇒\"openjdk-17-jre-headless; rm -rf /\"\n")
		}, "java.package", "is not a package name"},

		// what a component cannot hold, refused before any connection
		{"IPv4-mapped IPv6 on a memcached host", func(t *testing.T) string {
			return edit(t, "address: 10.0.0.68", "address: ⇒\"::ffff:10.0.0.68\"")
		}, "hosts[2].address", "IPv4-mapped"},
		{"IPv6 on a Tomcat-only host", func(t *testing.T) string {
			return edit(t, extraHost, "  - name: t78\n    address: ⇒fd00::78\n    roles: [tomcat]\n"+extraHost)
		}, "hosts[3].address", "a Tomcat host needs a plain IPv4 address"},
		{"timezone not in the IANA database", func(t *testing.T) string { return edit(t, "timezone: UTC", "timezone: ⇒Mars/Olympus_Mons") },
			"cluster.timezone", "is not in the IANA time zone database"},
		{"timezone in the wrong case", func(t *testing.T) string { return edit(t, "timezone: UTC", "timezone: ⇒asia/shanghai") },
			"cluster.timezone", "case-sensitive"},
		{"empty artifacts.dir", func(t *testing.T) string { return edit(t, "java:\n", "artifacts:\n  dir: ⇒\"\"\njava:\n") },
			"artifacts.dir", "must not be empty"},

		{"unbalanced regexp in request_uri_ignore_pattern", func(t *testing.T) string {
			return edit(t, "  serializer: java\n", "  serializer: java\n  request_uri_ignore_pattern: ⇒'.*\\.(ico|png$'\n")
		}, "msm.request_uri_ignore_pattern", "is not a valid regular expression"},
		{"Go's named group in request_uri_ignore_pattern", func(t *testing.T) string {
			return edit(t, "  serializer: java\n", "  serializer: java\n  request_uri_ignore_pattern: ⇒'(?P<ext>\\.png)$'\n")
		}, "msm.request_uri_ignore_pattern", "Java's named group is (?<name>...)"},

		// durations
		{"bad duration", func(t *testing.T) string { return edit(t, "connect_timeout: 10s", "connect_timeout: ⇒10 sec") },
			"ssh.connect_timeout", `"10 sec" is not a duration`},
		{"duration without unit", func(t *testing.T) string { return edit(t, "operation_timeout: 1s", "operation_timeout: ⇒1000") },
			"msm.operation_timeout", "want a duration with a unit, like 1000ms"},
		{"negative duration", func(t *testing.T) string { return edit(t, "connect_timeout: 10s", "connect_timeout: ⇒-1s") },
			"ssh.connect_timeout", "must be positive"},
		{"operation_timeout below a millisecond", func(t *testing.T) string {
			return edit(t, "operation_timeout: 1s", "operation_timeout: ⇒1500us")
		}, "msm.operation_timeout", "whole number of milliseconds"},

		// duplicates across hosts
		{"duplicate host name", func(t *testing.T) string { return edit(t, "  - name: t68", "  - name: ⇒t58") },
			"hosts[2].name", `duplicate host name "t58" (also hosts[1])`},
		{"duplicate address", func(t *testing.T) string { return edit(t, "address: 10.0.0.68", "address: ⇒10.0.0.58") },
			"hosts[2].address", "duplicate address 10.0.0.58 (also hosts[1])"},
		{"duplicate fqdn (against a defaulted one)", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.68\n", "    fqdn: ⇒T58.lab.test\n    address: 10.0.0.68\n")
		}, "hosts[2].fqdn", `duplicate fqdn "T58.lab.test" (also hosts[1])`},

		// roles
		{"missing roles", func(t *testing.T) string {
			return edit(t, extraHost, "  - ⇒name: extra\n    address: 10.0.0.9\n"+extraHost)
		}, "hosts[3].roles", "is required: a list of proxy, tomcat, memcached"},
		{"empty roles", func(t *testing.T) string {
			return edit(t, extraHost, "  - name: extra\n    address: 10.0.0.9\n    roles: ⇒[]\n"+extraHost)
		}, "hosts[3].roles", "is empty"},
		{"null roles count as missing", func(t *testing.T) string {
			return edit(t, extraHost, "  - ⇒name: extra\n    address: 10.0.0.9\n    roles:\n"+extraHost)
		}, "hosts[3].roles", "is required"},
		{"unknown role", func(t *testing.T) string { return edit(t, "roles: [proxy]", "roles: [proxy, ⇒nginx]") },
			"hosts[0].roles[1]", `unknown role "nginx"; roles are proxy, tomcat, memcached`},
		{"role listed twice", func(t *testing.T) string { return edit(t, "roles: [proxy]", "roles: [proxy, ⇒proxy]") },
			"hosts[0].roles[1]", `role "proxy" is listed twice`},

		// addresses and names
		{"invalid IP address", func(t *testing.T) string { return edit(t, "address: 10.0.0.8\n", "address: ⇒10.0.0.300\n") },
			"hosts[0].address", `"10.0.0.300" is not an IP address`},
		{"host name instead of IP", func(t *testing.T) string { return edit(t, "address: 10.0.0.8\n", "address: ⇒proxy.lab\n") },
			"hosts[0].address", `"proxy.lab" is not an IP address`},
		{"IPv6 memcached host", func(t *testing.T) string { return edit(t, "address: 10.0.0.58", "address: ⇒fd00::58") },
			"hosts[1].address", "needs a plain IPv4 address"},
		{"host name with a dot (jvmRoute)", func(t *testing.T) string { return edit(t, "name: t58", "name: ⇒t.58") },
			"hosts[1].name", `"t.58" may hold only letters, digits and '_' (it becomes the Tomcat jvmRoute`},
		{"host name with a dash", func(t *testing.T) string { return edit(t, "name: t58", "name: ⇒t-58") },
			"hosts[1].name", `\w+`},
		{"missing address", func(t *testing.T) string {
			return edit(t, extraHost, "  - ⇒name: extra\n    roles: [memcached]\n"+extraHost)
		}, "hosts[3].address", "is required"},

		// ports
		{"ssh.port 0", func(t *testing.T) string { return edit(t, "port: 22", "port: ⇒0") },
			"ssh.port", "0 is out of range 1-65535"},
		{"ssh.port 70000", func(t *testing.T) string { return edit(t, "port: 22", "port: ⇒70000") },
			"ssh.port", "70000 is out of range 1-65535"},
		{"per-host ssh.port 0", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.58\n", "    address: 10.0.0.58\n    ssh: {port: ⇒0}\n")
		}, "hosts[1].ssh.port", "0 is out of range"},
		{"tomcat.port 70000", func(t *testing.T) string { return edit(t, "port: 8080", "port: ⇒70000") },
			"tomcat.port", "70000 is out of range"},
		{"tomcat.port 0", func(t *testing.T) string { return edit(t, "port: 8080", "port: ⇒0") },
			"tomcat.port", "0 is out of range"},
		{"memcached.port 0", func(t *testing.T) string { return edit(t, "port: 11211", "port: ⇒0") },
			"memcached.port", "0 is out of range"},
		{"memcached.port 70000", func(t *testing.T) string { return edit(t, "port: 11211", "port: ⇒70000") },
			"memcached.port", "70000 is out of range"},
		{"nginx.listen 70000", func(t *testing.T) string { return edit(t, "listen: 80", "listen: ⇒70000") },
			"nginx.listen", "70000 is out of range"},
		{"nginx.listen 0", func(t *testing.T) string { return edit(t, "listen: 80", "listen: ⇒0") },
			"nginx.listen", "0 is out of range"},
		{"two services on one port", func(t *testing.T) string {
			return edit(t, "roles: [tomcat, memcached]\n  - name: t68", "roles: ⇒[tomcat, memcached, proxy]\n  - name: t68", "listen: 80", "listen: 8080")
		}, "hosts[1].roles", "nginx.listen and tomcat.port are both 8080 on this host"},

		// role counts
		{"no tomcat hosts", func(t *testing.T) string {
			return edit(t, "hosts:\n  - name: proxy", "hosts:\n  ⇒- name: proxy",
				"roles: [tomcat, memcached]\n  - name: t68", "roles: [memcached]\n  - name: t68",
				"roles: [tomcat, memcached]\njava", "roles: [memcached]\njava")
		}, "hosts", "no host has role tomcat"},
		{"one tomcat host in sticky mode", func(t *testing.T) string {
			return edit(t, "hosts:\n  - name: proxy", "hosts:\n  ⇒- name: proxy", "roles: [tomcat, memcached]\njava", "roles: [memcached]\njava")
		}, "hosts", "msm.sticky needs at least 2 tomcat hosts"},
		{"one memcached host in sticky mode", func(t *testing.T) string {
			return edit(t, "hosts:\n  - name: proxy", "hosts:\n  ⇒- name: proxy", "roles: [tomcat, memcached]\njava", "roles: [tomcat]\njava")
		}, "hosts", "msm.sticky needs at least 2 memcached hosts"},
		{"no proxy host", func(t *testing.T) string {
			return edit(t, "hosts:\n  - name: proxy", "hosts:\n  ⇒- name: proxy", "roles: [proxy]", "roles: [memcached]")
		}, "hosts", "no host has role proxy"},
		{"empty host list", func(t *testing.T) string {
			return base[:strings.Index(base, "hosts:")] + "hosts: ⇒[]\n" + base[strings.Index(base, "java:"):]
		}, "hosts", "is required"},

		// enums
		{"java.install", func(t *testing.T) string { return edit(t, "install: tarball", "install: ⇒zip") },
			"java.install", `"zip" is not one of tarball, package`},
		{"msm.serializer", func(t *testing.T) string { return edit(t, "serializer: java", "serializer: ⇒json") },
			"msm.serializer", `"json" is not one of java, kryo`},
		{"nginx.balance", func(t *testing.T) string { return edit(t, "balance: sticky", "balance: ⇒least_conn") },
			"nginx.balance", `"least_conn" is not one of sticky, ip_hash, round_robin`},
		{"round_robin with sticky MSM", func(t *testing.T) string { return edit(t, "balance: sticky", "balance: ⇒round_robin") },
			"nginx.balance", "round_robin breaks msm.sticky: true"},

		// cluster
		{"timezone without Area/", func(t *testing.T) string { return edit(t, "timezone: UTC", "timezone: ⇒Shanghai") },
			"cluster.timezone", `"Shanghai" is not a time zone name`},
		{"empty timezone", func(t *testing.T) string { return edit(t, "timezone: UTC", `timezone: ⇒""`) },
			"cluster.timezone", "is empty"},
		{"missing cluster.name", func(t *testing.T) string { return edit(t, "cluster:\n  name: lab\n  domain", "cluster:\n  ⇒domain") },
			"cluster.name", "is required"},
		{"bad ntp server", func(t *testing.T) string {
			return edit(t, "  timezone: UTC\n", "  timezone: UTC\n  ntp_servers: [pool.ntp.org, ⇒\"ntp server\"]\n")
		},
			"cluster.ntp_servers[1]", `"ntp server" is neither a host name nor an IP address`},

		// duplicate YAML keys
		{"duplicate key", func(t *testing.T) string { return edit(t, "  port: 22\n", "  port: 22\n  ⇒port: 23\n") },
			"ssh.port", `key "port" is already defined at line 7`},
		{"duplicate key in a host", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.58\n", "    address: 10.0.0.58\n    ⇒address: 10.0.0.59\n")
		}, "hosts[1].address", `key "address" is already defined at line 14`},
		{"duplicate section", func(t *testing.T) string { return base + "⇒nginx:\n  listen: 81\n" },
			"nginx", `key "nginx" is already defined at line 31`},

		// versions
		{"tomcat 10 (jakarta)", func(t *testing.T) string { return edit(t, "version: 9.0.70", "version: ⇒10.1.5") },
			"tomcat.version", "Tomcat 10 and later use jakarta.servlet, which memcached-session-manager 2.3.x does not support"},
		{"tomcat 7", func(t *testing.T) string { return edit(t, "version: 9.0.70", "version: ⇒7.0.109") },
			"tomcat.version", "Tomcat 7.0.109 is not supported"},
		{"tomcat version not x.y.z", func(t *testing.T) string { return edit(t, "version: 9.0.70", "version: ⇒9") },
			"tomcat.version", `"9" is not a Tomcat version like 9.0.70`},
		{"tomcat version missing", func(t *testing.T) string { return edit(t, "  version: 9.0.70\n  port", "  ⇒port") },
			"tomcat.version", "is required"},
		{"msm 2.4", func(t *testing.T) string { return edit(t, "msm:\n", "msm:\n  version: ⇒2.4.0\n") },
			"msm.version", `"2.4.0" is not supported`},

		// files and hashes
		{"java.tarball missing", func(t *testing.T) string {
			return edit(t, "  install: tarball\n  tarball: jdk.tar.gz\n", "  ⇒install: tarball\n")
		},
			"java.tarball", "is required when java.install is tarball"},
		{"tomcat.sha512 not hex", func(t *testing.T) string { return edit(t, "  port: 8080\n", "  port: 8080\n  sha512: ⇒abc\n") },
			"tomcat.sha512", "must be 128 hex digits"},
		{"storage_key_prefix token", func(t *testing.T) string {
			return edit(t, "  serializer: java\n", "  serializer: java\n  storage_key_prefix: ⇒\"static:x,path\"\n")
		}, "msm.storage_key_prefix", `"path" is not one of static:<word>`},
		{"~user path", func(t *testing.T) string {
			return edit(t, "  port: 22\n", "  port: 22\n  known_hosts: ⇒~bob/known_hosts\n")
		},
			"ssh.known_hosts", "only ~ and ~/ are expanded"},

		// bastions
		{"bastion without address", func(t *testing.T) string {
			return edit(t, "  port: 22\n", "  port: 22\n  bastion:\n    ⇒user: jump\n")
		}, "ssh.bastion.address", "is required"},
		{"second hop's port", func(t *testing.T) string {
			return edit(t, "  port: 22\n", "  port: 22\n  bastion:\n    address: b.example.com\n    bastion:\n      address: 10.0.0.1\n      port: ⇒0\n")
		}, "ssh.bastion.bastion.port", "0 is out of range"},
		{"host bastion address", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.58\n", "    address: 10.0.0.58\n    ssh:\n      bastion: {address: ⇒\"jump host\"}\n")
		}, "hosts[1].ssh.bastion.address", `"jump host" is neither a host name nor an IP address`},
		{"ssh.address", func(t *testing.T) string {
			return edit(t, "    address: 10.0.0.58\n", "    address: 10.0.0.58\n    ssh:\n      address: ⇒a_b\n")
		}, "hosts[1].ssh.address", `"a_b" is neither`},

		// YAML features we refuse
		{"merge key", func(t *testing.T) string {
			return edit(t, "memcached:\n  port: 11211\n", "memcached:\n  ⇒<<: {port: 11211}\n")
		}, "memcached", "merge keys (<<) are not supported"},
		{"second document", func(t *testing.T) string { return base + "⇒---\na: 1\n" },
			"", "only one YAML document is allowed"},
		{"top level is a list", func(t *testing.T) string { return "⇒- a\n- b\n" },
			"", "want a map, got a list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _, line, col := singleErrorAtMarker(t, tc.yaml(t))
			if e.File != "inventory.yaml" || e.Line != line || e.Column != col || e.Field != tc.field {
				t.Errorf("got %s:%d:%d field %q, want inventory.yaml:%d:%d field %q\n(%v)", e.File, e.Line, e.Column, e.Field, line, col, tc.field, e)
			}
			if !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Msg, tc.msg)
			}
			prefix := fmt.Sprintf("inventory.yaml:%d:%d: ", line, col)
			if tc.field != "" {
				prefix += tc.field + ": "
			}
			if !strings.HasPrefix(e.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", e.Error(), prefix)
			}
		})
	}
}

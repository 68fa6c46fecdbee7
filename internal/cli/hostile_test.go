package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// hostileBase is a valid inventory of the seed's shape on loopback; each
// hostile case edits it. %PORT% is the counting listener, %KEY% a real key.
const hostileBase = `cluster:
  name: lo
  domain: lo.test
  timezone: UTC
ssh:
  user: root
  port: %PORT%
  key_files: [%KEY%]
  agent: false
  known_hosts: ./known_hosts
  connect_timeout: 3s
  config: none
hosts:
  - name: proxy
    address: 127.0.0.1
    roles: [proxy]
  - name: t58
    address: 127.0.0.2
    roles: [tomcat, memcached]
  - name: t68
    address: 127.0.0.3
    roles: [tomcat, memcached]
artifacts:
  dir: ./artifacts
java:
  install: tarball
  tarball: jdk.tar.gz
tomcat:
  version: 9.0.70
  port: 8080
memcached:
  port: 11211
  memory_mb: 64
msm:
  serializer: java
  maven_repo: "http://127.0.0.1:1/never"
  operation_timeout: 1s
nginx:
  listen: 80
  balance: sticky
rollout:
  max_unavailable: 1
`

// hostileCase: the inventory after edits (old, new pairs; "⇒" in a new
// marks where the error must point), the command line, and what the one
// error must say. Without a marker the error has no position (flags).
type hostileCase struct {
	name  string
	edits []string
	args  []string // after "-i inventory"; default apply
	field string   // the error's field; "" for command-line errors
	msg   string
}

// Every case exits 2 with the exact file:line:column and field, and no
// host is contacted: the listener behind every host's SSH port stays silent.
func TestHostileInventoriesAndFlags(t *testing.T) {
	cases := []hostileCase{
		// unknown keys at every level
		{"unknown top-level key", []string{"cluster:\n", "⇒colour: blue\ncluster:\n"}, nil, "colour", `unknown key "colour"`},
		{"unknown cluster key", []string{"  name: lo\n", "  name: lo\n  ⇒nmae: x\n"}, nil, "cluster.nmae", `did you mean "name"`},
		{"unknown host key", []string{"    address: 127.0.0.2\n", "    address: 127.0.0.2\n    ⇒adress: 127.0.0.9\n"}, nil, "hosts[1].adress", `did you mean "address"`},
		{"unknown msm key", []string{"  serializer: java\n", "  serializer: java\n  ⇒stiky: true\n"}, nil, "msm.stiky", `did you mean "sticky"`},
		{"unknown rollout key", []string{"  max_unavailable: 1\n", "  max_unavailable: 1\n  ⇒max_surge: 2\n"}, nil, "rollout.max_surge", "unknown key"},
		// wrong types
		{"string for a port", []string{"  port: 8080\n", "  port: ⇒eighty\n"}, nil, "tomcat.port", "want an integer"},
		{"float for memory", []string{"  memory_mb: 64\n", "  memory_mb: ⇒64.5\n"}, nil, "memcached.memory_mb", "want an integer"},
		{"map for roles", []string{"    roles: [proxy]\n", "    roles: ⇒{proxy: true}\n"}, nil, "hosts[0].roles", "want a list"},
		{"list for a map", []string{"nginx:\n  listen: 80\n  balance: sticky\n", "nginx: ⇒[80]\n"}, nil, "nginx", "want a map"},
		{"boolean for a user", []string{"  user: root\n", "  user: ⇒true\n"}, nil, "ssh.user", "want a string"},
		{"string for a boolean", []string{"  agent: false\n", "  agent: ⇒nope\n"}, nil, "ssh.agent", "want true or false"},
		// duplicates
		{"duplicate key", []string{"  listen: 80\n", "  listen: 80\n  ⇒listen: 81\n"}, nil, "nginx.listen", "already defined at line"},
		{"duplicate host name", []string{"  - name: t68\n", "  - name: ⇒t58\n"}, nil, "hosts[2].name", "duplicate host name"},
		{"duplicate address", []string{"    address: 127.0.0.3\n", "    address: ⇒127.0.0.2\n"}, nil, "hosts[2].address", "duplicate address"},
		// roles
		{"unknown role", []string{"    roles: [proxy]\n", "    roles: [⇒proxi]\n"}, nil, "hosts[0].roles[0]", "unknown role"},
		{"role twice", []string{"    roles: [proxy]\n", "    roles: [proxy, ⇒proxy]\n"}, nil, "hosts[0].roles[1]", "listed twice"},
		{"empty roles", []string{"    roles: [proxy]\n", "    roles: ⇒[]\n"}, nil, "hosts[0].roles", "is empty"},
		// addresses a component cannot hold
		{"not an IP", []string{"    address: 127.0.0.1\n", "    address: ⇒proxy.lo.test\n"}, nil, "hosts[0].address", "is not an IP address"},
		{"IPv6 memcached host", []string{"    address: 127.0.0.2\n", "    address: ⇒\"fd00::2\"\n"}, nil, "hosts[1].address", "a memcached host needs a plain IPv4"},
		{"IPv4-mapped memcached host", []string{"    address: 127.0.0.3\n", "    address: ⇒\"::ffff:127.0.0.3\"\n"}, nil, "hosts[2].address", "IPv4-mapped"},
		{"IPv6 Tomcat-only host", []string{"    roles: [tomcat, memcached]\n  - name: t68", "    roles: [tomcat, memcached]\n  - name: t78\n    address: ⇒\"fd00::78\"\n    roles: [tomcat]\n  - name: t68"}, nil, "hosts[2].address", "a Tomcat host needs a plain IPv4"},
		{"address with a zone", []string{"    address: 127.0.0.1\n", "    address: ⇒\"fe80::1%eth0\"\n"}, nil, "hosts[0].address", "is not an IP address"},
		// ports
		{"port zero", []string{"  listen: 80\n", "  listen: ⇒0\n"}, nil, "nginx.listen", "out of range"},
		{"port too big", []string{"  port: 11211\n", "  port: ⇒70000\n"}, nil, "memcached.port", "out of range"},
		{"shutdown port = http port", []string{"  port: 8080\n", "  port: 8080\n  shutdown_port: ⇒8080\n"}, nil, "tomcat.shutdown_port", "is also tomcat.port"},
		// versions
		{"Tomcat 10", []string{"  version: 9.0.70\n", "  version: ⇒10.1.5\n"}, nil, "tomcat.version", "jakarta"},
		{"not a version", []string{"  version: 9.0.70\n", "  version: ⇒latest\n"}, nil, "tomcat.version", "is not a Tomcat version"},
		{"MSM 2.2", []string{"  serializer: java\n", "  serializer: java\n  version: ⇒2.2.0\n"}, nil, "msm.version", "2.3.x"},
		{"bad sha512", []string{"  port: 8080\n", "  port: 8080\n  sha512: ⇒abc\n"}, nil, "tomcat.sha512", "128 hex digits"},
		// values that reach a shell, a unit file or a config file
		{"command substitution in java.home", []string{"  tarball: jdk.tar.gz\n", "  tarball: jdk.tar.gz\n  home: ⇒\"/usr/local/jdk$(touch /tmp/x)\"\n"}, nil, "java.home", "between single slashes"},
		{"backquote in tomcat.prefix", []string{"  port: 8080\n", "  port: 8080\n  prefix: ⇒\"/opt/`id`\"\n"}, nil, "tomcat.prefix", "between single slashes"},
		{"space in tomcat.prefix", []string{"  port: 8080\n", "  port: 8080\n  prefix: ⇒\"/opt/my apps\"\n"}, nil, "tomcat.prefix", "between single slashes"},
		{"relative java.home", []string{"  tarball: jdk.tar.gz\n", "  tarball: jdk.tar.gz\n  home: ⇒jdk\n"}, nil, "java.home", "must be an absolute path"},
		{"dot-dot in java.home", []string{"  tarball: jdk.tar.gz\n", "  tarball: jdk.tar.gz\n  home: ⇒/usr/../jdk\n"}, nil, "java.home", `must not contain ".."`},
		{"semicolon in a tarball name", []string{"  tarball: jdk.tar.gz\n", "  tarball: ⇒\"jdk;reboot.tar.gz\"\n"}, nil, "java.tarball", "may hold only letters"},
		{"shell in java.package", []string{"  install: tarball\n  tarball: jdk.tar.gz\n", "  install: package\n  package: ⇒\"jdk && rm -rf /\"\n"}, nil, "java.package", "is not a package name"},
		{"dot in a host name", []string{"  - name: t58\n", "  - name: ⇒t.58\n"}, nil, "hosts[1].name", "jvmRoute"},
		{"quote in the cluster name", []string{"  name: lo\n", "  name: ⇒\"lo'x\"\n"}, nil, "cluster.name", "may hold only"},
		{"shell in ssh.user", []string{"  user: root\n", "  user: ⇒\"root;id\"\n"}, nil, "ssh.user", "not a valid user name"},
		{"shell in tomcat.user", []string{"  port: 8080\n", "  port: 8080\n  user: ⇒\"$(id)\"\n"}, nil, "tomcat.user", "not a valid user name"},
		{"bad storage key prefix", []string{"  serializer: java\n", "  serializer: java\n  storage_key_prefix: ⇒\"static:a b\"\n"}, nil, "msm.storage_key_prefix", "is not one of"},
		{"bad ignore regexp", []string{"  serializer: java\n", "  serializer: java\n  request_uri_ignore_pattern: ⇒'(.*'\n"}, nil, "msm.request_uri_ignore_pattern", "not a valid regular expression"},
		// names and zones
		{"bad fqdn", []string{"  - name: t58\n", "  - name: t58\n    fqdn: ⇒\"t58..lo\"\n"}, nil, "hosts[1].fqdn", "not a valid host name"},
		{"bad ntp server", []string{"  timezone: UTC\n", "  timezone: UTC\n  ntp_servers: [⇒\"ntp server\"]\n"}, nil, "cluster.ntp_servers[0]", ""},
		{"timezone not IANA", []string{"  timezone: UTC\n", "  timezone: ⇒Mars/Olympus_Mons\n"}, nil, "cluster.timezone", "IANA time zone database"},
		{"timezone lower case", []string{"  timezone: UTC\n", "  timezone: ⇒asia/shanghai\n"}, nil, "cluster.timezone", "case-sensitive"},
		// enums, numbers, durations
		{"round robin with sticky MSM", []string{"  balance: sticky\n", "  balance: ⇒round_robin\n"}, nil, "nginx.balance", ""},
		{"unknown java.install", []string{"  install: tarball\n", "  install: ⇒rpm\n"}, nil, "java.install", "is not one of"},
		{"unknown serializer", []string{"  serializer: java\n", "  serializer: ⇒xml\n"}, nil, "msm.serializer", "is not one of"},
		{"maven_repo not a URL", []string{`  maven_repo: "http://127.0.0.1:1/never"`, "  maven_repo: ⇒ftp.example"}, nil, "msm.maven_repo", "is not an http(s) URL"},
		{"memory zero", []string{"  memory_mb: 64\n", "  memory_mb: ⇒0\n"}, nil, "memcached.memory_mb", "must be at least 1"},
		{"max_unavailable zero", []string{"  max_unavailable: 1\n", "  max_unavailable: ⇒0\n"}, nil, "rollout.max_unavailable", "must be at least 1"},
		{"duration without unit", []string{"  operation_timeout: 1s\n", "  operation_timeout: ⇒1000\n"}, nil, "msm.operation_timeout", "with a unit"},
		{"negative connect timeout", []string{"  connect_timeout: 3s\n", "  connect_timeout: ⇒-3s\n"}, nil, "ssh.connect_timeout", "must be positive"},
		// secrets and local files
		{"password in the file", []string{"  user: root\n", "  user: root\n  ⇒password: hunter22\n"}, nil, "ssh.password", "secrets must not be written"},
		{"empty artifacts.dir", []string{"  dir: ./artifacts\n", "  dir: ⇒\"\"\n"}, nil, "artifacts.dir", "must not be empty"},
		{"key file missing", []string{"  key_files: [%KEY%]\n", "  key_files: [⇒/nonexistent/id_ed25519]\n"}, []string{"verify"}, "ssh.key_files[0]", "missing or unreadable"},
		{"key file is a directory", []string{"  key_files: [%KEY%]\n", "  key_files: [⇒/tmp]\n"}, []string{"teardown"}, "ssh.key_files[0]", "not a regular file"},
		{"key file not a private key", []string{"  key_files: [%KEY%]\n", "  key_files: [⇒/etc/passwd]\n"}, []string{"status"}, "ssh.key_files[0]", "does not parse as a private key"},
		{"tarball not a gzip tar", []string{"  tarball: jdk.tar.gz\n", "  tarball: ⇒spymemcached-2.12.3.jar\n"}, []string{"apply"}, "java.tarball", "not gzip-compressed"},
		{"tarball not in artifacts.dir", []string{"  tarball: jdk.tar.gz\n", "  tarball: ⇒jdk-missing.tar.gz\n"}, []string{"apply"}, "java.tarball", "the JDK tarball (put it into artifacts.dir"},
		// YAML syntax
		{"tab in indentation", []string{"  port: 8080\n", "⇒\tport: 8080\n"}, nil, "", "YAML syntax"},
		{"unclosed quote that runs on", []string{"  name: lo\n", "  name: ⇒\"lo\n"}, nil, "", "double-quoted string is not closed on its line"},
		{"nesting 50,000 deep", []string{"rollout:\n", "x: " + strings.Repeat("[", 63) + "⇒" + strings.Repeat("[", 50000-63) + "\nrollout:\n"}, nil, "", "nested more than 64 levels deep"},
		{"merge key", []string{"nginx:\n", "nginx:\n  ⇒<<: {listen: 81}\n"}, nil, "nginx", "merge keys"},
		{"second document", []string{"rollout:\n", "---\nrollout:\n"}, nil, "", "only one YAML document"},
		// command lines
		{"negative --connect-timeout", nil, []string{"verify", "--connect-timeout", "-1s"}, "", "--connect-timeout must not be negative"},
		{"--parallel 0", nil, []string{"apply", "--parallel", "0"}, "", "--parallel must be at least 1"},
		{"--output xml", nil, []string{"teardown", "-o", "xml"}, "", "--output must be text or json"},
		{"--skip-preflight typo", nil, []string{"restart", "tomcat", "--skip-preflight", "dsik"}, "", `"dsik": no such check`},
		{"--hosts unknown", nil, []string{"apply", "--hosts", "t99"}, "", "--hosts"},
		{"restart what", nil, []string{"restart", "nginx"}, "", "only tomcat can be restarted on its own"},
	}
	if len(cases) < 60 {
		t.Fatalf("%d cases; the issue asks for at least 60", len(cases))
	}
	port, contacted := countingListener(t)
	key := sshtest.NewClientKey(t, "").Path
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeArtifacts(t, filepath.Join(dir, "artifacts"), "jdk.tar.gz", "apache-tomcat-9.0.70.tar.gz", "apache-tomcat-9.0.70.tar.gz.sha512",
				"memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar", "spymemcached-2.12.3.jar")
			text := hostileBase
			for i := 0; i+1 < len(tc.edits); i += 2 {
				if strings.Count(text, tc.edits[i]) != 1 {
					t.Fatalf("edit %q does not occur exactly once", tc.edits[i])
				}
				text = strings.Replace(text, tc.edits[i], tc.edits[i+1], 1)
			}
			text = strings.NewReplacer("%PORT%", port, "%KEY%", key).Replace(text)
			where := ""
			if i := strings.Index(text, "⇒"); i >= 0 {
				line := strings.Count(text[:i], "\n") + 1
				col := len([]rune(text[strings.LastIndex(text[:i], "\n")+1:i])) + 1
				text = strings.Replace(text, "⇒", "", 1)
				where = fmt.Sprintf(":%d:%d: ", line, col)
			}
			inv := filepath.Join(dir, "inventory.yaml")
			os.WriteFile(inv, []byte(text), 0o644)
			args := tc.args
			if args == nil {
				args = []string{"apply"}
			}
			before := contacted.Load()
			code, _, errOut := run(append([]string{"-i", inv}, args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d: %s", code, ExitUsage, errOut)
			}
			want := tc.msg
			if where != "" {
				want = inv + strings.TrimSuffix(where, " ")
				if tc.field != "" {
					want += " " + tc.field + ":"
				}
			}
			if !strings.Contains(errOut, want) || !strings.Contains(errOut, tc.msg) {
				t.Errorf("stderr %q\nwant %q and %q", errOut, want, tc.msg)
			}
			if n := contacted.Load() - before; n > 0 {
				t.Errorf("%d connection(s) to the hosts", n)
			}
		})
	}
}

// Messages name their origin once: no "topology: topology:" or
// "--hosts: --hosts:".
func TestNoDoubledPrefixes(t *testing.T) {
	port, _ := countingListener(t)
	inv := loopbackInventory(t, port)
	_, _, errOut := run("-i", inv, "apply", "--hosts", "t99")
	b, _ := os.ReadFile(inv)
	os.WriteFile(inv, []byte(strings.Replace(string(b), "roles: [tomcat, memcached]}", "roles: [tomcat]}", 2)), 0o644)
	_, _, errOut2 := run("-i", inv, "apply")
	for _, out := range []string{errOut, errOut2} {
		for _, p := range []string{"--hosts: --hosts:", "topology: topology:"} {
			if strings.Contains(out, p) {
				t.Errorf("doubled prefix %q in %q", p, out)
			}
		}
	}
	if !strings.Contains(errOut, `--hosts: unknown host "t99"`) || !strings.Contains(errOut2, "no host has role memcached") {
		t.Errorf("messages: %q, %q", errOut, errOut2)
	}
}

package inventory

import (
	"reflect"
	"testing"
	"time"
)

// minimal leaves out everything that has a default.
const minimal = `cluster:
  name: lab
  domain: lab.test
hosts:
  - {name: proxy, address: 10.0.0.8, roles: [proxy]}
  - {name: t58, address: 10.0.0.58, roles: [tomcat, memcached]}
  - {name: t68, address: 10.0.0.68, roles: [tomcat, memcached]}
java:
  tarball: jdk.tar.gz
tomcat:
  version: 9.0.70
`

func TestDefaults(t *testing.T) {
	inv := mustParse(t, minimal)
	checks := []struct {
		what      string
		got, want any
	}{
		{"ssh.user", inv.SSH.User, "root"},
		{"ssh.port", inv.SSH.Port, 22},
		{"ssh.agent", inv.SSH.Agent, true},
		{"ssh.known_hosts", inv.SSH.KnownHosts, "/home/u/.ssh/known_hosts"},
		{"ssh.connect_timeout", inv.SSH.ConnectTimeout.Std(), 10 * time.Second},
		{"hosts[1].fqdn", inv.Hosts[1].FQDN, "t58.lab.test"},
		{"artifacts.dir", inv.Artifacts.Dir, "/inv/artifacts"},
		{"java.install", inv.Java.Install, JavaTarball},
		{"java.home", inv.Java.Home, "/usr/local/jdk"},
		{"java.package", inv.Java.Package, ""},
		{"tomcat.tarball", inv.Tomcat.Tarball, "apache-tomcat-9.0.70.tar.gz"},
		{"tomcat.port", inv.Tomcat.Port, 8080},
		{"tomcat.shutdown_port", inv.Tomcat.ShutdownPort, 8005},
		{"tomcat.prefix", inv.Tomcat.Prefix, "/usr/local"},
		{"tomcat.user", inv.Tomcat.User, "tomcat"},
		{"memcached.port", inv.Memcached.Port, 11211},
		{"memcached.memory_mb", inv.Memcached.MemoryMB, 64},
		{"memcached.max_connections", inv.Memcached.MaxConnections, 1024},
		{"msm.version", inv.MSM.Version, "2.3.2"},
		{"msm.sticky", inv.MSM.Sticky, true},
		{"msm.serializer", inv.MSM.Serializer, SerializerJava},
		{"msm.maven_repo", inv.MSM.MavenRepo, "https://repo1.maven.org/maven2"},
		{"msm.session_backup_async", inv.MSM.SessionBackupAsync, false},
		{"msm.operation_timeout ms", inv.MSM.OperationTimeout.Milliseconds(), int64(1000)},
		{"msm.request_uri_ignore_pattern", inv.MSM.RequestURIIgnorePattern, ""},
		{"nginx.listen", inv.Nginx.Listen, 80},
		{"nginx.balance", inv.Nginx.Balance, BalanceSticky},
		{"cluster.timezone", inv.Cluster.Timezone, ""},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

// An explicit false or value must survive defaulting.
func TestDefaultsKeepExplicitValues(t *testing.T) {
	inv := mustParse(t, minimal+`ssh: {agent: false, user: deploy, port: 2222}
msm: {sticky: false, session_backup_async: true, operation_timeout: 250ms}
nginx: {balance: round_robin}
`)
	if inv.SSH.Agent || inv.SSH.User != "deploy" || inv.SSH.Port != 2222 {
		t.Errorf("ssh = %+v", inv.SSH)
	}
	if inv.MSM.Sticky || !inv.MSM.SessionBackupAsync || inv.MSM.OperationTimeout.Milliseconds() != 250 {
		t.Errorf("msm = %+v", inv.MSM)
	}
	if inv.Nginx.Balance != BalanceRoundRobin {
		t.Errorf("nginx = %+v", inv.Nginx)
	}
}

func TestJavaPackageDefaults(t *testing.T) {
	inv := mustParse(t, editText(t, minimal, "java:\n  tarball: jdk.tar.gz\n", "java:\n  install: package\n"))
	if inv.Java.Package != "default-jdk-headless" || inv.Java.Home != "/usr/local/jdk" || inv.Java.Tarball != "" {
		t.Errorf("java = %+v", inv.Java)
	}
}

func TestHostOverrides(t *testing.T) {
	inv := mustParse(t, editText(t, minimal,
		"{name: t58, address: 10.0.0.58, roles: [tomcat, memcached]}",
		"{name: t58, address: 10.0.0.58, roles: [tomcat, memcached], fqdn: web1.example.org, ssh: {user: admin, port: 2200}, ntp_servers: [10.0.0.1]}",
		"  domain: lab.test\n", "  domain: lab.test\n  ntp_servers: [pool.ntp.org]\n"))
	t58, ok := inv.Host("t58")
	if !ok {
		t.Fatal("t58 not found")
	}
	if t58.SSHUser() != "admin" || t58.SSHPort() != 2200 || t58.FQDN != "web1.example.org" ||
		!reflect.DeepEqual(t58.EffectiveNTPServers(), []string{"10.0.0.1"}) {
		t.Errorf("t58 overrides not used: %s %d %s %v", t58.SSHUser(), t58.SSHPort(), t58.FQDN, t58.EffectiveNTPServers())
	}
	t68, _ := inv.Host("t68")
	if t68.SSHUser() != "root" || t68.SSHPort() != 22 || !reflect.DeepEqual(t68.EffectiveNTPServers(), []string{"pool.ntp.org"}) {
		t.Errorf("t68 should inherit: %s %d %v", t68.SSHUser(), t68.SSHPort(), t68.EffectiveNTPServers())
	}
	if t68.SSH != nil {
		t.Errorf("t68 has an ssh override it never wrote: %+v", t68.SSH)
	}
}

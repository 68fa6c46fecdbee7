package playbooks

import (
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// familyCase is what apply must do on a pristine host of one OS family,
// next to the seed's hand-typed CentOS commands where it has one.
type familyCase struct {
	name, osRelease string
	cmds            map[string][]string // host -> commands that must be run (exactly)
	files           map[string][]string // host -> files that must be written
	contains        map[string]string   // "host:path" -> text the written file must hold
}

func TestApplyOnPristineHostsPerFamily(t *testing.T) {
	cases := []familyCase{{
		name: "rocky9", osRelease: rocky9,
		cmds: map[string][]string{
			// seed: yum -y install nginx (dnf on 8/9); chrony; systemctl enable --now chronyd.service
			"proxy": {"dnf install -y chrony", "dnf install -y nginx", "systemctl enable --now chronyd",
				"nginx -t -q -c /etc/nginx/.nginx.conf.clusterctl-validate", "systemctl enable --now nginx", "systemctl reload nginx",
				// seed: firewall off, SELinux off; here: open what is used, allow nginx -> Tomcat
				"firewall-cmd --permanent --add-port=80/tcp && firewall-cmd --add-port=80/tcp",
				"setsebool -P httpd_can_network_connect on"},
			// seed: useradd -r -s /sbin/nologin tomcat; chown -R tomcat.tomcat
			"t58": {"dnf install -y memcached", "useradd -r -M -d /usr/local/tomcat -s /sbin/nologin tomcat",
				"chown -R tomcat:tomcat /usr/local/apache-tomcat-8.5.78", "ln -sfn /usr/local/jdk1.8.0_291 /usr/local/jdk",
				"ln -sfn /usr/local/apache-tomcat-8.5.78 /usr/local/tomcat", "systemctl enable --now chronyd",
				"systemctl enable --now memcached", "systemctl daemon-reload", "systemctl enable --now tomcat",
				`firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="192.168.250.8" port port="8080" protocol="tcp" accept' && ` +
					`firewall-cmd --add-rich-rule='rule family="ipv4" source address="192.168.250.8" port port="8080" protocol="tcp" accept'`,
				`firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="192.168.250.68" port port="11211" protocol="tcp" accept' && ` +
					`firewall-cmd --add-rich-rule='rule family="ipv4" source address="192.168.250.68" port port="11211" protocol="tcp" accept'`},
		},
		files: map[string][]string{
			// seed: sed -i ... /etc/chrony.conf
			"proxy": {"/etc/chrony.conf", "/etc/nginx/.nginx.conf.clusterctl-validate"},
			"t58": {"/etc/chrony.conf", "/etc/sysconfig/memcached", "/etc/systemd/system/tomcat.service",
				"/usr/local/tomcat/conf/server.xml", "/usr/local/tomcat/conf/context.xml", "/etc/profile.d/jdk.sh",
				"/etc/profile.d/tomcat.sh", "/usr/local/tomcat/webapps/probe/index.jsp", "/usr/local/tomcat/webapps/probe/demo.jsp",
				"/usr/local/tomcat/webapps/probe/WEB-INF/web.xml"},
		},
		contains: map[string]string{
			"proxy:/etc/nginx/.nginx.conf.clusterctl-validate": "user nginx;",
			"t58:/etc/sysconfig/memcached":                     "OPTIONS=",
			"t58:/etc/systemd/system/tomcat.service":           "Environment=JAVA_HOME=/usr/local/jdk\n",
			"t58:/usr/local/tomcat/conf/context.xml":           `failoverNodes="n1"`,
		},
	}, {
		name: "centos7", osRelease: centos7,
		cmds: map[string][]string{
			"proxy": {"yum install -y chrony", "yum install -y nginx", "systemctl enable --now chronyd"},
			"t68":   {"yum install -y memcached", "useradd -r -M -d /usr/local/tomcat -s /sbin/nologin tomcat"},
		},
		files: map[string][]string{"proxy": {"/etc/chrony.conf"}, "t68": {"/etc/sysconfig/memcached"}},
	}, {
		// Ubuntu with ufw enabled: the same openings, as ufw rules.
		name: "ubuntu22-ufw", osRelease: ubuntu22,
		cmds: map[string][]string{
			"proxy": {"ufw allow 80/tcp"},
			"t58":   {"ufw allow from 192.168.250.8 to any port 8080 proto tcp", "ufw allow from 192.168.250.68 to any port 11211 proto tcp"},
		},
	}, {
		name: "debian12", osRelease: debian12,
		cmds: map[string][]string{
			"proxy": {"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends nginx",
				"systemctl enable --now chrony", "systemctl reload nginx"},
			"t58": {"useradd -r -M -d /usr/local/tomcat -s /usr/sbin/nologin tomcat"},
		},
		files: map[string][]string{
			"proxy": {"/etc/chrony/chrony.conf"},
			"t58":   {"/etc/chrony/chrony.conf", "/etc/memcached.conf"},
		},
		contains: map[string]string{"proxy:/etc/nginx/.nginx.conf.clusterctl-validate": "user www-data;"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conns, recap, _ := applyTo(t, labArtifacts(t), tc.osRelease)
			if recap.Failed() {
				t.Fatalf("apply failed: %+v", recap.Hosts)
			}
			for host, want := range tc.cmds {
				for _, cmd := range want {
					if !ran(conns[host], cmd) {
						t.Errorf("%s: command %q not run; ran:\n%s", host, cmd, strings.Join(conns[host].cmds, "\n"))
					}
				}
			}
			for host, want := range tc.files {
				for _, f := range want {
					if _, ok := conns[host].writes[f]; !ok {
						t.Errorf("%s: %s not written", host, f)
					}
				}
			}
			for key, text := range tc.contains {
				host, file, _ := strings.Cut(key, ":")
				if got := string(conns[host].writes[file]); !strings.Contains(got, text) {
					t.Errorf("%s:%s lacks %q:\n%s", host, file, text, got)
				}
			}
			// Stock Debian filters nothing: no firewall or SELinux change.
			if tc.osRelease == debian12 {
				for host, c := range conns {
					for _, cmd := range c.cmds {
						if strings.HasPrefix(cmd, "firewall-cmd") || strings.HasPrefix(cmd, "setsebool") || strings.HasPrefix(cmd, "ufw") {
							t.Errorf("%s: %q", host, cmd)
						}
					}
				}
			}
			// Roles: the proxy gets no Tomcat, Tomcat hosts no nginx.
			if len(conns["proxy"].commands("tomcat")) != 0 || len(conns["t58"].commands("nginx")) != 0 {
				t.Errorf("a play ran on a host without its role")
			}
		})
	}
}

// The tarballs and jars go to the places the later steps expect, and the
// Tomcat restart handler runs once per host although four of its steps
// changed.
func TestApplyUploadsAndHandlers(t *testing.T) {
	conns, _, col := applyTo(t, labArtifacts(t), debian12)
	up := conns["t58"].uploads
	for _, p := range []string{"/usr/local/src/clusterctl/jdk-8u291-linux-x64.tar.gz", "/usr/local/src/clusterctl/apache-tomcat-8.5.78.tar.gz",
		"/usr/local/tomcat/lib/memcached-session-manager-2.3.2.jar", "/usr/local/tomcat/lib/memcached-session-manager-tc8-2.3.2.jar",
		"/usr/local/tomcat/lib/spymemcached-2.12.3.jar"} {
		if _, ok := up[p]; !ok {
			t.Errorf("t58: %s not uploaded (uploads: %v)", p, up)
		}
	}
	if len(conns["proxy"].uploads) != 0 {
		t.Errorf("proxy got uploads: %v", conns["proxy"].uploads)
	}
	restarts := map[string]int{}
	for _, e := range col.Events() {
		if e.Type == engine.EventHandler {
			restarts[e.Host+" "+e.Play+" "+e.Step]++
		}
	}
	for _, k := range []string{"t58 tomcat restart tomcat", "t58 msm restart tomcat", "t58 memcached restart memcached", "proxy nginx reload nginx", "proxy base restart chrony"} {
		if restarts[k] != 1 {
			t.Errorf("handler %q ran %d times, want 1 (all: %v)", k, restarts[k], restarts)
		}
	}
	// Unpack is guarded by the versioned directory and renames into place.
	unpack := conns["t58"].commands("tar -xzf /usr/local/src/clusterctl/apache-tomcat-8.5.78.tar.gz")
	if len(unpack) != 1 || !strings.Contains(unpack[0], "mv /usr/local/.clusterctl-unpack-apache-tomcat-8.5.78/apache-tomcat-8.5.78 /usr/local/apache-tomcat-8.5.78") {
		t.Errorf("tomcat unpack: %q", unpack)
	}
}

// java.install: package uses the distribution's JDK: Debian's default
// package as is, on RHEL its name translated; java.home (the unit's
// JAVA_HOME) becomes a link to the home the package's own files name, on
// RHEL through the alternatives link that survives updates.
func TestJavaPackageInstall(t *testing.T) {
	for _, tc := range []struct {
		osRelease string
		want      []string
		notWant   string
	}{
		{debian12, []string{"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends default-jdk-headless",
			"ln -sfn /usr/lib/jvm/java-17-openjdk-amd64 /usr/local/jdk"}, ""},
		{rocky9, []string{"dnf install -y java-17-openjdk-headless", "ln -sfn /usr/lib/jvm/jre-17 /usr/local/jdk"}, ""},
	} {
		inv := labArtifacts(t, "install: tarball ", "install: package ", "  tarball: jdk-8u291-linux-x64.tar.gz\n", "")
		conns, recap, _ := applyTo(t, inv, tc.osRelease)
		if recap.Failed() {
			t.Fatalf("apply failed: %+v", recap.Hosts)
		}
		c := conns["t58"]
		for _, w := range tc.want {
			if !ran(c, w) {
				t.Errorf("%q not run; ran:\n%s", w, strings.Join(c.cmds, "\n"))
			}
		}
		if got := c.commands("jdk1.8.0_291", "/etc/profile.d/jdk.sh"); len(got) != 0 {
			t.Errorf("package install still unpacks a JDK: %q", got)
		}
		if tc.notWant != "" && len(c.commands(tc.notWant+" /usr/lib/jvm")) != 0 {
			t.Errorf("debian: java.home relinked")
		}
		if u := string(c.writes["/etc/systemd/system/tomcat.service"]); !strings.Contains(u, "JAVA_HOME=/usr/local/jdk\n") {
			t.Errorf("unit JAVA_HOME:\n%s", u)
		}
	}
}

// ran reports whether cmd was run, alone or as one line of a script (the
// engine may wrap a change in bookkeeping commands).
func ran(c *pristineConn, cmd string) bool {
	for _, got := range c.cmds {
		if got == cmd || strings.Contains("\n"+got+"\n", "\n"+cmd+"\n") || strings.Contains(got, "{ "+cmd+"; }") {
			return true
		}
	}
	return false
}

// cluster.manage_firewall: false keeps apply out of a RHEL host's firewalld
// and SELinux settings entirely.
func TestManageFirewallFalse(t *testing.T) {
	inv := labArtifacts(t, "manage_firewall: true", "manage_firewall: false")
	conns, recap, _ := applyTo(t, inv, rocky9)
	if recap.Failed() {
		t.Fatalf("apply failed: %+v", recap.Hosts)
	}
	for host, c := range conns {
		if got := c.commands("firewall-cmd", "setsebool", "selinuxenabled", "ufw"); len(got) != 0 {
			t.Errorf("%s: %q", host, got)
		}
	}
}

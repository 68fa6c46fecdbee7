package inventory

import (
	"fmt"
	"os"
	"time"
)

// Defaults that other packages may want to name.
const (
	DefaultSSHUser    = "root"
	DefaultSSHPort    = 22
	DefaultMSMVersion = "2.3.2"
)

// resolveBastion resolves the paths of a bastion chain; bounded, because
// validation reports a chain that is too long only after defaults ran.
func resolveBastion(b *Bastion, resolve func(*string)) {
	for n := 0; b != nil && n <= maxBastionHops; b, n = b.Bastion, n+1 {
		for i := range b.KeyFiles {
			resolve(&b.KeyFiles[i])
		}
		resolve(&b.KnownHosts)
	}
}

func homeDir() string {
	home, _ := os.UserHomeDir()
	return home
}

// applyDefaults is the ONLY place defaults are set. set reports which fields
// the file gave a (non-null) value, so that an explicit zero or false is kept
// (and, for ports, rejected by validation) rather than silently replaced.
// It runs after decoding and before validation; it never fails: where a
// default depends on an invalid value (java.install: zip) it leaves the field
// alone and validation reports the cause.
func applyDefaults(inv *Inventory, set positions, home string) {
	setStr := func(p *string, path, def string) {
		if !set.has(path) {
			*p = def
		}
	}
	if !set.has("apiVersion") {
		inv.Notices = append(inv.Notices, fmt.Sprintf("%s has no apiVersion: read as %s; add `apiVersion: %s` and `kind: %s` at its top (clusterctl apply --dry-run prints the file with both)",
			inv.file, APIVersion, APIVersion, KindCluster))
	}
	setStr(&inv.APIVersion, "apiVersion", APIVersion)
	setStr(&inv.Kind, "kind", KindCluster)
	setInt := func(p *int, path string, def int) {
		if !set.has(path) {
			*p = def
		}
	}
	setBool := func(p *bool, path string, def bool) {
		if !set.has(path) {
			*p = def
		}
	}
	setDur := func(p *Duration, path string, def time.Duration) {
		if !set.has(path) {
			*p = Duration(def)
		}
	}
	resolve := func(p *string) { *p = resolvePath(*p, inv.baseDir, home) }

	// The seed turns firewall and SELinux off by hand; apply opens what the
	// cluster needs instead, unless told to keep out.
	setBool(&inv.Cluster.ManageFirewall, "cluster.manage_firewall", true)
	// ssh: root on port 22 is what the seed's blog post uses.
	setStr(&inv.SSH.User, "ssh.user", DefaultSSHUser)
	setInt(&inv.SSH.Port, "ssh.port", DefaultSSHPort)
	// Use a running ssh-agent if there is one, as ssh(1) does.
	setBool(&inv.SSH.Agent, "ssh.agent", true)
	// The file ssh(1) itself trusts, so hosts known to the user are known to us.
	setStr(&inv.SSH.KnownHosts, "ssh.known_hosts", "~/.ssh/known_hosts")
	// 10s: long enough for a slow VM to accept, short enough to fail fast on a typo'd address.
	setDur(&inv.SSH.ConnectTimeout, "ssh.connect_timeout", 10*time.Second)
	// key_files has no default list: with none given, the agent is the way in.
	for i := range inv.SSH.KeyFiles {
		resolve(&inv.SSH.KeyFiles[i])
	}
	resolve(&inv.SSH.KnownHosts)
	// ~/.ssh/config, as ssh(1) reads it: an operator's Host blocks (user,
	// key, ProxyJump) are how they reach these hosts already.
	// Without a home directory there is no ~/.ssh/config to read.
	if home == "" {
		setStr(&inv.SSH.Config, "ssh.config", SSHConfigNone)
	} else {
		setStr(&inv.SSH.Config, "ssh.config", "~/.ssh/config")
	}
	if inv.SSH.Config != SSHConfigNone {
		resolve(&inv.SSH.Config)
	}
	resolveBastion(inv.SSH.Bastion, resolve)
	for i := range inv.Hosts {
		if s := inv.Hosts[i].SSH; s != nil {
			resolveBastion(s.Bastion, resolve)
		}
	}

	// hosts: the fqdn defaults to name + "." + cluster.domain (the seed's t58 -> t58.shone.cn).
	inherited := &hostDefaults{sshUser: inv.SSH.User, sshPort: inv.SSH.Port, ntpServers: inv.Cluster.NTPServers}
	for i := range inv.Hosts {
		h := &inv.Hosts[i]
		if h.FQDN == "" && h.Name != "" && inv.Cluster.Domain != "" {
			h.FQDN = h.Name + "." + inv.Cluster.Domain
		}
		h.inherited = inherited
	}
	inv.all = inv.Hosts

	// artifacts.dir: ./artifacts next to the inventory file, not the working directory.
	setStr(&inv.Artifacts.Dir, "artifacts.dir", "./artifacts")
	resolve(&inv.Artifacts.Dir)

	// java: the seed unpacks a JDK tarball into /usr/local/jdk.
	// java.home is clusterctl's link to the JDK either way (the unpacked
	// tarball, or the home the package installed), so the unit and the
	// profile script read the same path whatever the method.
	setStr(&inv.Java.Install, "java.install", JavaTarball)
	switch inv.Java.Install {
	case JavaTarball:
		setStr(&inv.Java.Home, "java.home", "/usr/local/jdk")
	case JavaPackage:
		// Debian's meta-package for its default headless JDK.
		setStr(&inv.Java.Package, "java.package", "default-jdk-headless")
		setStr(&inv.Java.Home, "java.home", "/usr/local/jdk")
	}

	// tomcat: Apache's tarball name for the version; Tomcat's own default ports;
	// installed under /usr/local like the seed, running as an unprivileged user.
	if inv.Tomcat.Version != "" {
		setStr(&inv.Tomcat.Tarball, "tomcat.tarball", "apache-tomcat-"+inv.Tomcat.Version+".tar.gz")
	}
	setInt(&inv.Tomcat.Port, "tomcat.port", 8080)
	setInt(&inv.Tomcat.ShutdownPort, "tomcat.shutdown_port", 8005)
	setStr(&inv.Tomcat.Prefix, "tomcat.prefix", "/usr/local")
	setStr(&inv.Tomcat.User, "tomcat.user", "tomcat")
	// Tomcat's own connector default; 14 days of access logs.
	setInt(&inv.Tomcat.MaxThreads, "tomcat.max_threads", 200)
	setInt(&inv.Tomcat.AccessLogMaxDays, "tomcat.access_log_max_days", 14)

	// memcached: its own defaults (port 11211, -m 64, -c 1024).
	setInt(&inv.Memcached.Port, "memcached.port", 11211)
	setInt(&inv.Memcached.MemoryMB, "memcached.memory_mb", 64)
	setInt(&inv.Memcached.MaxConnections, "memcached.max_connections", 1024)

	// msm: the release docs/msm.md describes, in the seed's sticky mode, with
	// JDK serialization (no extra jars, no --add-opens on JDK 16+).
	setStr(&inv.MSM.Version, "msm.version", DefaultMSMVersion)
	setBool(&inv.MSM.Sticky, "msm.sticky", true)
	setStr(&inv.MSM.Serializer, "msm.serializer", SerializerJava)
	setStr(&inv.MSM.MavenRepo, "msm.maven_repo", "https://repo1.maven.org/maven2")
	// Synchronous backup, unlike MSM's default (true): `clusterctl verify`
	// reads the session's key from memcached right after the HTTP response,
	// and with asynchronous backup the key may not be written yet. The cost is
	// at most sessionBackupTimeout (100 ms) per request that changed the session.
	setBool(&inv.MSM.SessionBackupAsync, "msm.session_backup_async", false)
	// MSM's own operationTimeout default, 1000 ms.
	setDur(&inv.MSM.OperationTimeout, "msm.operation_timeout", time.Second)
	// request_uri_ignore_pattern and storage_key_prefix: empty keeps MSM's defaults.

	// nginx: plain HTTP on 80, routing on the jvmRoute in JSESSIONID, which
	// is what MSM's sticky mode needs.
	setInt(&inv.Nginx.Listen, "nginx.listen", 80)
	setStr(&inv.Nginx.Balance, "nginx.balance", BalanceSticky)

	// rollout: one Tomcat out of service at a time; 30 s lets ordinary
	// requests finish; 2 minutes is engine.DefaultWaitTimeout, a cold
	// Tomcat start on a slow host with margin.
	setInt(&inv.Rollout.MaxUnavailable, "rollout.max_unavailable", 1)
	setDur(&inv.Rollout.DrainTimeout, "rollout.drain_timeout", 30*time.Second)
	setDur(&inv.Rollout.ReadyTimeout, "rollout.ready_timeout", 2*time.Minute)

	// apps: health and the live check's sessions are the app's root
	// unless said otherwise; both session checks guard a new version.
	for i := range inv.Apps {
		setStr(&inv.Apps[i].Health, fmt.Sprintf("apps[%d].health", i), "/")
		setStr(&inv.Apps[i].SessionPath, fmt.Sprintf("apps[%d].session_path", i), "/")
		setStr(&inv.Apps[i].SessionCheck, fmt.Sprintf("apps[%d].session_check", i), SessionCheckBoth)
	}
}

package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// The structs below are the schema of inventory.yaml. The `yaml` tag is the
// key in the file (the strict decoder and EffectiveYAML both use it); the
// `inv:"noecho"` tag marks fields whose value must never appear in an error
// message, because a user may have pasted a secret there by mistake.

// Inventory is a decoded, defaulted and validated inventory.yaml.
type Inventory struct {
	// APIVersion and Kind say which schema the file is written in, as
	// k0sctl's do; a file without them is read as the current version.
	APIVersion string    `yaml:"apiVersion"`
	Kind       string    `yaml:"kind"`
	Cluster    Cluster   `yaml:"cluster"`
	SSH        SSH       `yaml:"ssh"`
	Hosts      []Host    `yaml:"hosts"`
	Artifacts  Artifacts `yaml:"artifacts"`
	Java       Java      `yaml:"java"`
	Tomcat     Tomcat    `yaml:"tomcat"`
	Memcached  Memcached `yaml:"memcached"`
	MSM        MSM       `yaml:"msm"`
	Nginx      Nginx     `yaml:"nginx"`
	Rollout    Rollout   `yaml:"rollout"`
	Apps       []App     `yaml:"apps,omitempty"`

	// Notices are what the loader wants the user to know that is no error
	// (a file without apiVersion); commands print them on stderr.
	Notices []string `yaml:"-"`

	file    string    // path given to Load, for messages
	pos     positions // where each value was written, for CheckLocal's messages
	baseDir string    // absolute directory of file; relative paths resolve against it
	all     []Host    // the whole cluster; Hosts is a subset after Limit
}

// Cluster holds settings shared by every host.
type Cluster struct {
	Name   string `yaml:"name"`
	Domain string `yaml:"domain,omitempty"`
	// Timezone is an IANA name (Area/City) or UTC; empty leaves host clocks' zones alone.
	Timezone string `yaml:"timezone,omitempty"`
	// NTPServers empty leaves time synchronisation alone.
	NTPServers []string `yaml:"ntp_servers,omitempty"`
	// ManageFirewall lets apply open the cluster's ports in an active
	// firewalld or ufw and set SELinux's httpd_can_network_connect; false
	// leaves both to whoever manages them.
	ManageFirewall bool `yaml:"manage_firewall"`
}

// SSH is how clusterctl reaches every host; Host.SSH may override user,
// port, address and bastion. What the inventory leaves unset comes from
// Config (OpenSSH's client configuration), then from the defaults.
type SSH struct {
	User       string   `yaml:"user"`
	Port       int      `yaml:"port"`
	KeyFiles   []string `yaml:"key_files,omitempty"`
	Agent      bool     `yaml:"agent"`
	KnownHosts string   `yaml:"known_hosts"`
	// PasswordEnv and PassphraseEnv name environment variables; the secrets
	// themselves never live in the inventory.
	PasswordEnv   string `yaml:"password_env,omitempty" inv:"noecho"`
	PassphraseEnv string `yaml:"passphrase_env,omitempty" inv:"noecho"`
	// SudoPasswordEnv names the environment variable holding the sudo
	// password of a user whose sudo asks for one (Ansible's
	// become_password); without it sudo must not ask (NOPASSWD).
	SudoPasswordEnv string   `yaml:"sudo_password_env,omitempty" inv:"noecho"`
	ConnectTimeout  Duration `yaml:"connect_timeout"`
	// Config is the ssh_config(5) file read for what the inventory leaves
	// unset, as ssh(1) reads it; SSHConfigNone reads none.
	Config string `yaml:"config"`
	// Bastion is the jump host every host is reached through (none if nil).
	Bastion *Bastion `yaml:"bastion,omitempty"`
}

// SSHConfigNone as ssh.config turns ~/.ssh/config off, like `ssh -F none`.
const SSHConfigNone = "none"

// Bastion is a jump host: reached like a host (through its own bastion
// first, if it names one, like OpenSSH's ProxyJump a,b), it only forwards
// the connections to the hosts behind it; nothing runs on it. Unset fields
// come from the global ssh section (user, key_files, known_hosts, agent,
// passphrase_env), then ~/.ssh/config, then port 22.
type Bastion struct {
	Address    string   `yaml:"address"`
	Port       int      `yaml:"port,omitempty"`
	User       string   `yaml:"user,omitempty"`
	KeyFiles   []string `yaml:"key_files,omitempty"`
	KnownHosts string   `yaml:"known_hosts,omitempty"`
	Bastion    *Bastion `yaml:"bastion,omitempty"`
}

// Role is what a host is for.
type Role string

// The roles a host can have.
const (
	RoleProxy     Role = "proxy"     // nginx in front of the Tomcats
	RoleTomcat    Role = "tomcat"    // JDK + Tomcat + MSM
	RoleMemcached Role = "memcached" // a memcached node MSM stores sessions in
)

// Roles lists every valid role, in the order used in messages.
var Roles = []Role{RoleProxy, RoleTomcat, RoleMemcached}

// Host is one machine of the cluster.
type Host struct {
	// Name is the short name; it becomes the Tomcat jvmRoute, so it must match \w+.
	Name    string `yaml:"name"`
	FQDN    string `yaml:"fqdn"`
	Address string `yaml:"address"`
	Roles   []Role `yaml:"roles"`
	// SSH overrides the global ssh.user / ssh.port for this host only.
	SSH *HostSSH `yaml:"ssh,omitempty"`
	// NTPServers overrides cluster.ntp_servers for this host only.
	NTPServers []string `yaml:"ntp_servers,omitempty"`

	inherited *hostDefaults // the global values the overrides fall back to
}

// HostSSH is the per-host part of SSH that may differ between hosts.
type HostSSH struct {
	User string `yaml:"user,omitempty"`
	Port int    `yaml:"port,omitempty"`
	// Address is where SSH connects when that is not the host's cluster
	// address (a NAT, a management network); it defaults to ~/.ssh/config's
	// HostName, then to the host's address.
	Address string `yaml:"address,omitempty"`
	// Bastion replaces ssh.bastion for this host.
	Bastion *Bastion `yaml:"bastion,omitempty"`
}

// hostDefaults is what a Host inherits from the global sections; set by
// applyDefaults so that Host methods work on a Host copied out of the Inventory.
type hostDefaults struct {
	sshUser    string
	sshPort    int
	ntpServers []string
}

// Artifacts says where offline tarballs and jars are looked up first.
type Artifacts struct {
	Dir string `yaml:"dir"`
}

// Java install methods.
const (
	JavaTarball = "tarball" // unpack a JDK tarball into java.home (the seed's way)
	JavaPackage = "package" // install the distribution's OpenJDK package
)

// Java is the JDK every Tomcat host runs.
type Java struct {
	Install string `yaml:"install"`
	Tarball string `yaml:"tarball,omitempty"`
	Package string `yaml:"package,omitempty"`
	Home    string `yaml:"home"`
}

// Tomcat is the servlet container on every tomcat host.
type Tomcat struct {
	Version string `yaml:"version"`
	Tarball string `yaml:"tarball"`
	// SHA512 of the tarball, lowercase hex; empty means read <tarball>.sha512.
	SHA512       string `yaml:"sha512,omitempty"`
	Port         int    `yaml:"port"`
	ShutdownPort int    `yaml:"shutdown_port"`
	Prefix       string `yaml:"prefix"`
	User         string `yaml:"user"`
	// HeapMB sets the JVM's heap (-Xms and -Xmx); 0 leaves the JVM's
	// default (a quarter of the host's memory).
	HeapMB int `yaml:"heap_mb,omitempty"`
	// JavaOpts are more JVM options (CATALINA_OPTS), one per item: each
	// starts with "-"; none that clusterctl sets itself.
	JavaOpts []string `yaml:"java_opts,omitempty"`
	// MaxThreads is the HTTP connector's maxThreads (Tomcat's default 200).
	MaxThreads int `yaml:"max_threads"`
	// AccessLogMaxDays is how many days of access logs Tomcat keeps
	// (the valve's maxDays); without it they pile up for ever.
	AccessLogMaxDays int `yaml:"access_log_max_days"`
}

// JVMOptions are the options clusterctl starts Tomcat's JVM with, in order:
// the heap, then java_opts.
func (t Tomcat) JVMOptions() []string {
	var out []string
	if t.HeapMB > 0 {
		out = append(out, fmt.Sprintf("-Xms%dm", t.HeapMB), fmt.Sprintf("-Xmx%dm", t.HeapMB))
	}
	return append(out, t.JavaOpts...)
}

// MaxHeapBytes is the heap the JVM may grow to, as the inventory sets it
// (heap_mb, else the last -Xmx of java_opts, as the JVM reads them); 0
// when neither does (the JVM's default follows the host's memory).
func (t Tomcat) MaxHeapBytes() int64 {
	var heap int64
	for _, o := range t.JVMOptions() {
		v, ok := strings.CutPrefix(o, "-Xmx")
		if !ok || v == "" {
			continue
		}
		unit := int64(1)
		switch v[len(v)-1] {
		case 'k', 'K':
			unit = 1 << 10
		case 'm', 'M':
			unit = 1 << 20
		case 'g', 'G':
			unit = 1 << 30
		case 't', 'T':
			unit = 1 << 40
		}
		if unit > 1 {
			v = v[:len(v)-1]
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			heap = n * unit
		}
	}
	return heap
}

// Memcached is the session store on every memcached host.
type Memcached struct {
	Port           int `yaml:"port"`
	MemoryMB       int `yaml:"memory_mb"`
	MaxConnections int `yaml:"max_connections"`
}

// MSM serializers.
const (
	SerializerJava = "java" // JDK serialization: no extra jars, no --add-opens
	SerializerKryo = "kryo" // msm-kryo-serializer and its jars
)

// MSM configures memcached-session-manager's Manager element in context.xml.
type MSM struct {
	Version                 string `yaml:"version"`
	Sticky                  bool   `yaml:"sticky"`
	Serializer              string `yaml:"serializer"`
	MavenRepo               string `yaml:"maven_repo"`
	RequestURIIgnorePattern string `yaml:"request_uri_ignore_pattern,omitempty"`
	SessionBackupAsync      bool   `yaml:"session_backup_async"`
	// OperationTimeout is written as a duration ("1s", "500ms") and rendered
	// as MSM's operationTimeout in whole milliseconds (OperationTimeout.Milliseconds()).
	// A bare number is rejected: "1000" could mean ms or s.
	OperationTimeout Duration `yaml:"operation_timeout"`
	// StorageKeyPrefix is MSM's storageKeyPrefix; empty keeps MSM's default.
	StorageKeyPrefix string `yaml:"storage_key_prefix,omitempty"`
}

// nginx balance methods.
const (
	BalanceSticky     = "sticky"      // route on the jvmRoute suffix of JSESSIONID
	BalanceIPHash     = "ip_hash"     // nginx ip_hash
	BalanceRoundRobin = "round_robin" // only with msm.sticky: false
)

// Nginx is the reverse proxy on every proxy host.
type Nginx struct {
	Listen  int    `yaml:"listen"`
	Balance string `yaml:"balance"`
}

// Rollout is how restarts of session-carrying services roll across a live
// cluster (internal/rollout).
type Rollout struct {
	// MaxUnavailable is how many Tomcats may be out of service at once; the
	// rollout never takes the last serving one.
	MaxUnavailable int `yaml:"max_unavailable"`
	// DrainTimeout bounds the wait for requests in flight to a drained
	// Tomcat; ReadyTimeout the wait for a restarted one to serve again.
	DrainTimeout Duration `yaml:"drain_timeout"`
	ReadyTimeout Duration `yaml:"ready_timeout"`
}

// App is one of the operator's web applications, deployed as a WAR on
// every Tomcat and rolled out like every Tomcat restart.
type App struct {
	// Name names the app in commands and on the hosts (its staging
	// directory); it matches [a-z0-9][a-z0-9_-]*.
	Name string `yaml:"name"`
	// WAR is a file in artifacts.dir (or a path, like the tarballs).
	WAR string `yaml:"war"`
	// Path is the context path ("/shop"; "/" for the root context).
	Path string `yaml:"path"`
	// SHA256 of the WAR, lowercase hex; empty reads <war>.sha256 beside it.
	SHA256 string `yaml:"sha256,omitempty"`
	// Health is a path under the app ("/" its root, "/health") that must
	// answer 2xx on every Tomcat before the Tomcat serves users again.
	Health string `yaml:"health"`
	// SessionPath is a path under the app whose answer puts the app's own
	// objects into a session (a cart, a login): the live session check
	// makes its sessions there. Default: the context root.
	SessionPath string `yaml:"session_path"`
	// SessionCheck says which session checks guard a new version (docs/
	// apps.md): both (default), offline, live, or none.
	SessionCheck string `yaml:"session_check"`
}

// The session checks an app can ask for.
const (
	SessionCheckBoth    = "both"
	SessionCheckOffline = "offline"
	SessionCheckLive    = "live"
	SessionCheckNone    = "none"
)

// Offline and Live say whether a's rollout runs that session check.
func (a App) Offline() bool {
	return a.SessionCheck == SessionCheckBoth || a.SessionCheck == SessionCheckOffline
}

func (a App) Live() bool {
	return a.SessionCheck == SessionCheckBoth || a.SessionCheck == SessionCheckLive
}

// SessionURLPath is SessionPath below Path.
func (a App) SessionURLPath() string { return a.under(a.SessionPath) }

// ContextName is the WAR's base name Tomcat derives Path from: "/" is
// ROOT, "/a/b" is a#b (Tomcat's naming rule for nested contexts). It never
// carries a "##version": MSM's default storage key prefix includes the
// webapp version, and with one every version would miss its sessions.
func (a App) ContextName() string {
	if a.Path == "/" {
		return "ROOT"
	}
	return strings.ReplaceAll(strings.TrimPrefix(a.Path, "/"), "/", "#")
}

// HealthPath is Health below Path ("/shop" + "/health").
func (a App) HealthPath() string { return a.under(a.Health) }

func (a App) under(p string) string {
	if a.Path == "/" {
		return p
	}
	return a.Path + p
}

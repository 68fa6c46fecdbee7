package inventory

import (
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	_ "time/tzdata" // the IANA names, whatever the machine has installed
)

// The inventory schema this clusterctl reads.
const (
	APIVersion  = "clusterctl/v1"
	KindCluster = "Cluster"
)

// checker collects validation problems, each placed at the value it concerns
// (or, for a defaulted value, at its nearest written ancestor).
type checker struct {
	file string
	pos  positions
	errs ErrorList
}

func (c *checker) fail(path, format string, args ...any) {
	p := c.pos.lookup(path)
	c.errs = append(c.errs, &Error{File: c.file, Line: p.line, Column: p.column, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// validate checks a decoded, defaulted inventory and returns an ErrorList or nil.
func validate(inv *Inventory, pos positions) error {
	c := &checker{file: inv.file, pos: pos}
	if inv.APIVersion != APIVersion {
		c.fail("apiVersion", "%q is not a version this clusterctl reads (it reads %s): a newer clusterctl wrote this file, or it is mistyped", inv.APIVersion, APIVersion)
	}
	if inv.Kind != KindCluster {
		c.fail("kind", "%q: an inventory is kind %s", inv.Kind, KindCluster)
	}
	c.cluster(inv)
	c.ssh(inv)
	c.hosts(inv)
	c.java(inv)
	c.tomcat(inv)
	c.memcached(inv)
	c.msm(inv)
	c.nginx(inv)
	c.rollout(inv)
	c.apps(inv)
	c.artifacts(inv)
	return c.errs.errOrNil()
}

func (c *checker) artifacts(inv *Inventory) {
	c.localPath("artifacts.dir", inv.Artifacts.Dir)
}

var (
	appNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	// appPathRE: "/" or segments of URL-safe characters Tomcat can name a
	// WAR after; "#" and "##" would be read as nesting and versions.
	appPathRE   = regexp.MustCompile(`^(/|(/[A-Za-z0-9._~-]+)+)$`)
	appHealthRE = regexp.MustCompile(`^/[A-Za-z0-9._~/?=&%-]*$`)
	sha256RE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ProbeContext is where clusterctl's own probe app lives (topology reads
// it from here); no app may take it.
const ProbeContext = "/probe"

func (c *checker) apps(inv *Inventory) {
	names, paths := map[string]int{}, map[string]int{}
	for i, a := range inv.Apps {
		ap := fmt.Sprintf("apps[%d]", i)
		if !appNameRE.MatchString(a.Name) {
			c.fail(ap+".name", "%q must match [a-z0-9][a-z0-9_-]* (it names the app's directory on the hosts)", a.Name)
		} else if j, ok := names[a.Name]; ok {
			c.fail(ap+".name", "%q is already the name of apps[%d]", a.Name, j)
		} else {
			names[a.Name] = i
		}
		switch {
		case !appPathRE.MatchString(a.Path):
			c.fail(ap+".path", "%q is not a context path: want / or /name[/name...] (letters, digits, . _ ~ -; no trailing slash)", a.Path)
		case a.Path == ProbeContext || strings.HasPrefix(a.Path, ProbeContext+"/"):
			c.fail(ap+".path", "%q is clusterctl's probe app (%s), which verify and the rollout use", a.Path, ProbeContext)
		default:
			if j, ok := paths[a.Path]; ok {
				c.fail(ap+".path", "%q is already the path of apps[%d]", a.Path, j)
			}
			paths[a.Path] = i
		}
		if !strings.HasSuffix(a.WAR, ".war") {
			c.fail(ap+".war", "%q is not a .war file", a.WAR)
		}
		if a.SHA256 != "" && !sha256RE.MatchString(a.SHA256) {
			c.fail(ap+".sha256", "want 64 lowercase hex digits, got %d characters", len(a.SHA256))
		}
		if !appHealthRE.MatchString(a.Health) {
			c.fail(ap+".health", "%q is not a path under the app (it starts with /)", a.Health)
		}
		if !appHealthRE.MatchString(a.SessionPath) {
			c.fail(ap+".session_path", "%q is not a path under the app (it starts with /)", a.SessionPath)
		}
		switch a.SessionCheck {
		case SessionCheckBoth, SessionCheckOffline, SessionCheckLive, SessionCheckNone:
		default:
			c.fail(ap+".session_check", "%q: want both, offline, live or none", a.SessionCheck)
		}
	}
}

func (c *checker) rollout(inv *Inventory) {
	r := inv.Rollout
	if r.MaxUnavailable < 1 {
		c.fail("rollout.max_unavailable", "must be at least 1, got %d", r.MaxUnavailable)
	}
	if r.DrainTimeout <= 0 {
		c.fail("rollout.drain_timeout", "must be positive, got %s", r.DrainTimeout)
	}
	if r.ReadyTimeout <= 0 {
		c.fail("rollout.ready_timeout", "must be positive, got %s", r.ReadyTimeout)
	}
}

var (
	// wordRE is Java's \w without UNICODE_CHARACTER_CLASS: MSM node ids and,
	// through them, jvmRoutes must match it.
	wordRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// clusterNameRE keeps the name usable in file names and unit names.
	clusterNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	// hostnameLabelRE is one DNS label (RFC 1123).
	hostnameLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	// timezoneRE is an IANA zone name shape: Area/Location[/Sub], e.g. Asia/Shanghai, America/Argentina/Buenos_Aires, Etc/GMT+8.
	timezoneRE = regexp.MustCompile(`^[A-Za-z]+(/[A-Za-z0-9_+-]+)+$`)
	// unixUserRE is the portable user name shape useradd accepts.
	unixUserRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	// envNameRE is a POSIX environment variable name.
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// tomcatVersionRE captures major.minor: MSM 2.3.x has modules for 8.5 (tc8) and 9 (tc9).
	tomcatVersionRE = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)$`)
	msmVersionRE    = regexp.MustCompile(`^2\.3\.\d+$`)
	sha512RE        = regexp.MustCompile(`^[0-9a-fA-F]{128}$`)
)

// javaOnly are constructs java.util.regex knows and Go's RE2 does not:
// lookaround, atomic groups, possessive quantifiers, back-references.
var javaOnly = regexp.MustCompile(`\(\?<?[=!]|\(\?>|[*+?}]\+|\\[1-9]|\\k<`)

// javaRegexp checks a pattern MSM compiles with java.util.regex.Pattern as
// far as Go can: what RE2 parses, Java parses too (but for Go's (?P<name>),
// which Java spells (?<name>)); a pattern RE2 rejects is only accepted
// when it uses a construct RE2 lacks, which is then left to Tomcat's log.
func javaRegexp(p string) error {
	if strings.Contains(p, "(?P<") {
		return fmt.Errorf("%q: (?P<name>...) is Go's syntax; Java's named group is (?<name>...)", p)
	}
	_, err := syntax.Parse(p, syntax.Perl)
	if err == nil || javaOnly.MatchString(p) {
		return nil
	}
	return fmt.Errorf("%q is not a valid regular expression: %v", p, err)
}

// atoi reads digits already matched by a regexp; it saturates instead of overflowing.
func atoi(digits string) int {
	n := 0
	for _, r := range digits {
		n = min(n*10+int(r-'0'), 1<<20)
	}
	return n
}

func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if !hostnameLabelRE.MatchString(label) {
			return false
		}
	}
	return true
}

func (c *checker) port(path string, p int) {
	if p < 1 || p > 65535 {
		c.fail(path, "%d is out of range 1-65535", p)
	}
}

func (c *checker) positive(path string, n int) {
	if n < 1 {
		c.fail(path, "must be at least 1, got %d", n)
	}
}

func (c *checker) oneOf(path, got string, allowed ...string) {
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	c.fail(path, "%q is not one of %s", got, strings.Join(allowed, ", "))
}

// remotePathRE is the grammar of a path clusterctl writes into shell
// scripts (profile.d), unit files and config files on the hosts: letters,
// digits and ._+@- between slashes. Anything else (a space, a quote, $,
// a backquote, ;) would have to be quoted differently in every one of
// those files, and a value that reaches a shell unquoted runs.
var remotePathRE = regexp.MustCompile(`^(/[A-Za-z0-9._+@-]+)+$`)

func (c *checker) absPath(path, p string) {
	switch {
	case !strings.HasPrefix(p, "/"):
		c.fail(path, "%q must be an absolute path", p)
	case !remotePathRE.MatchString(p):
		c.fail(path, "%q: a path on the hosts may hold only letters, digits and ._+@- between single slashes (it is written into shell scripts and unit files), and no trailing slash", p)
	default:
		for _, part := range strings.Split(p, "/") {
			if part == ".." || part == "." {
				c.fail(path, "%q must not contain %q: write the path it means", p, part)
				return
			}
		}
	}
}

// fileNameRE is the grammar of an artifact's file name (it becomes a path
// on the hosts and an argument of tar there) and packageNameRE of a
// package name (dpkg's and rpm's rules, which neither allow a space or a
// shell character).
var (
	fileNameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	packageNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
)

// fileName checks the part of an artifact's name that reaches the hosts:
// its base name (the directory part is only read locally).
func (c *checker) fileName(path, name string) {
	if name != "" && !fileNameRE.MatchString(filepath.Base(name)) {
		c.fail(path, "%q: the file's name is uploaded to the hosts and may hold only letters, digits and ._+-", name)
	}
}

// localPath checks a path resolved by applyDefaults: a "~" left means it could not be expanded.
func (c *checker) localPath(path, p string) {
	switch {
	case p == "":
		c.fail(path, "must not be empty")
	case strings.HasPrefix(p, "~/") || p == "~":
		c.fail(path, "cannot expand %q: the home directory is unknown ($HOME unset)", p)
	case strings.HasPrefix(p, "~"):
		c.fail(path, "%q: only ~ and ~/ are expanded, not ~user", p)
	}
}

func (c *checker) ntpServers(path string, servers []string) {
	for i, s := range servers {
		if _, err := netip.ParseAddr(s); err != nil && !isHostname(s) {
			c.fail(fmt.Sprintf("%s[%d]", path, i), "%q is neither a host name nor an IP address", s)
		}
	}
}

func (c *checker) cluster(inv *Inventory) {
	cl := inv.Cluster
	switch {
	case cl.Name == "":
		c.fail("cluster.name", "is required")
	case !clusterNameRE.MatchString(cl.Name):
		c.fail("cluster.name", "%q may hold only letters, digits, '_' and '-', starting with a letter or digit", cl.Name)
	}
	if cl.Domain != "" && !isHostname(cl.Domain) {
		c.fail("cluster.domain", "%q is not a valid DNS domain", cl.Domain)
	}
	// Absent means "leave the hosts' time zone alone"; written means set it.
	if c.pos.has("cluster.timezone") {
		switch tz := cl.Timezone; {
		case tz == "":
			c.fail("cluster.timezone", "is empty; write an IANA name like Asia/Shanghai or UTC, or remove the key to leave time zones alone")
		case tz != "UTC" && !timezoneRE.MatchString(tz):
			c.fail("cluster.timezone", "%q is not a time zone name; write Area/City (e.g. Asia/Shanghai) or UTC", tz)
		default:
			// The IANA database (embedded: time/tzdata) is what
			// timedatectl takes; its names are case-sensitive.
			if _, err := time.LoadLocation(tz); err != nil {
				c.fail("cluster.timezone", "%q is not in the IANA time zone database (names are case-sensitive, e.g. Asia/Shanghai)", tz)
			}
		}
	}
	c.ntpServers("cluster.ntp_servers", cl.NTPServers)
}

func (c *checker) ssh(inv *Inventory) {
	s := inv.SSH
	if !unixUserRE.MatchString(s.User) {
		c.fail("ssh.user", "%q is not a valid user name", s.User)
	}
	c.port("ssh.port", s.Port)
	for i, f := range s.KeyFiles {
		c.localPath(fmt.Sprintf("ssh.key_files[%d]", i), f)
	}
	c.localPath("ssh.known_hosts", s.KnownHosts)
	// Never echo these values: a user may have pasted the secret itself.
	for path, name := range map[string]string{"ssh.password_env": s.PasswordEnv, "ssh.passphrase_env": s.PassphraseEnv, "ssh.sudo_password_env": s.SudoPasswordEnv} {
		if c.pos.has(path) && !envNameRE.MatchString(name) {
			c.fail(path, "must be the NAME of an environment variable (letters, digits, _), not the secret itself; value not shown")
		}
	}
	if s.ConnectTimeout <= 0 {
		c.fail("ssh.connect_timeout", "must be positive, got %s", s.ConnectTimeout)
	}
	if s.Config != SSHConfigNone {
		c.localPath("ssh.config", s.Config)
	}
	c.bastion("ssh.bastion", s.Bastion)
}

// maxBastionHops is how many bastions one host may be behind; the same
// bound as transport's, so a chain the inventory accepts can be dialled.
const maxBastionHops = 8

func (c *checker) bastion(path string, b *Bastion) {
	for n := 0; b != nil; b, n = b.Bastion, n+1 {
		if n == maxBastionHops {
			c.fail(path, "more than %d bastions in a row", maxBastionHops)
			return
		}
		switch {
		case b.Address == "":
			c.fail(path+".address", "is required (the bastion's IP address or host name)")
		case !isHostOrIP(b.Address):
			c.fail(path+".address", "%q is neither a host name nor an IP address", b.Address)
		}
		if c.pos.has(path + ".port") {
			c.port(path+".port", b.Port)
		}
		if c.pos.has(path+".user") && !unixUserRE.MatchString(b.User) {
			c.fail(path+".user", "%q is not a valid user name", b.User)
		}
		for i, f := range b.KeyFiles {
			c.localPath(fmt.Sprintf("%s.key_files[%d]", path, i), f)
		}
		if c.pos.has(path + ".known_hosts") {
			c.localPath(path+".known_hosts", b.KnownHosts)
		}
		path += ".bastion"
	}
}

func isHostOrIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return (err == nil && a.Zone() == "") || isHostname(s)
}

func (c *checker) java(inv *Inventory) {
	j := inv.Java
	switch j.Install {
	default:
		c.oneOf("java.install", j.Install, JavaTarball, JavaPackage)
		return // java.home has no default for an unknown method; one error is enough
	case JavaTarball:
		if j.Tarball == "" {
			c.fail("java.tarball", "is required when java.install is tarball (a JDK .tar.gz in artifacts.dir)")
		}
		if j.Package != "" {
			c.fail("java.package", "is only used when java.install is package")
		}
	case JavaPackage:
		if j.Package == "" {
			c.fail("java.package", "must not be empty when java.install is package")
		} else if !packageNameRE.MatchString(j.Package) {
			c.fail("java.package", "%q is not a package name (letters, digits, ._+-)", j.Package)
		}
		if j.Tarball != "" {
			c.fail("java.tarball", "is only used when java.install is tarball")
		}
	}
	c.fileName("java.tarball", j.Tarball)
	c.absPath("java.home", j.Home)
}

func (c *checker) tomcat(inv *Inventory) {
	t := inv.Tomcat
	if t.Version == "" {
		c.fail("tomcat.version", "is required (8.5.x or 9.0.x)")
	} else if m := tomcatVersionRE.FindStringSubmatch(t.Version); m == nil {
		c.fail("tomcat.version", "%q is not a Tomcat version like 9.0.70 or 8.5.78", t.Version)
	} else if major, minor := atoi(m[1]), atoi(m[2]); major >= 10 {
		c.fail("tomcat.version", "Tomcat %s is not supported: Tomcat 10 and later use jakarta.servlet, which memcached-session-manager 2.3.x does not support (MSM issue #459); use 8.5.x or 9.0.x", t.Version)
	} else if !(major == 8 && minor == 5) && !(major == 9 && minor == 0) {
		c.fail("tomcat.version", "Tomcat %s is not supported: memcached-session-manager 2.3.x is set up here for Tomcat 8.5.x (memcached-session-manager-tc8) or 9.0.x (-tc9)", t.Version)
	}
	if t.Tarball == "" && t.Version != "" { // without a version the tarball had no default; one error is enough
		c.fail("tomcat.tarball", "must not be empty")
	}
	c.fileName("tomcat.tarball", t.Tarball)
	if t.SHA512 != "" && !sha512RE.MatchString(t.SHA512) {
		c.fail("tomcat.sha512", "must be 128 hex digits (sha512sum's output), or empty to read <tarball>.sha512")
	}
	c.port("tomcat.port", t.Port)
	c.port("tomcat.shutdown_port", t.ShutdownPort)
	if t.Port == t.ShutdownPort {
		c.fail("tomcat.shutdown_port", "%d is also tomcat.port", t.ShutdownPort)
	}
	c.absPath("tomcat.prefix", t.Prefix)
	if !unixUserRE.MatchString(t.User) {
		c.fail("tomcat.user", "%q is not a valid user name", t.User)
	}
	if t.HeapMB < 0 || t.HeapMB > 1<<20 {
		c.fail("tomcat.heap_mb", "must be between 1 and 1048576 MiB, or 0 for the JVM's default, got %d", t.HeapMB)
	}
	for i, o := range t.JavaOpts {
		f := fmt.Sprintf("tomcat.java_opts[%d]", i)
		switch {
		case !strings.HasPrefix(o, "-") || len(o) < 2:
			c.fail(f, "%q is not a JVM option (it starts with -)", o)
		case strings.ContainsAny(o, " \t\n'\"`$\\;&|<>"):
			// catalina.sh expands CATALINA_OPTS with eval: one word per option.
			c.fail(f, "%q: one option per item, without spaces, quotes or shell characters (catalina.sh evaluates CATALINA_OPTS)", o)
		case ownedJVMOption(o) != "":
			c.fail(f, "%q: %s", o, ownedJVMOption(o))
		case t.HeapMB > 0 && (strings.HasPrefix(o, "-Xmx") || strings.HasPrefix(o, "-Xms")):
			c.fail(f, "%q: the heap is tomcat.heap_mb's (%d MiB); set one of the two", o, t.HeapMB)
		}
	}
	if t.MaxThreads < 1 || t.MaxThreads > 100000 {
		c.fail("tomcat.max_threads", "must be between 1 and 100000, got %d", t.MaxThreads)
	}
	if t.AccessLogMaxDays < 1 {
		c.fail("tomcat.access_log_max_days", "must be at least 1, got %d", t.AccessLogMaxDays)
	}
}

// ownedJVMOption says why o is not the inventory's to set: clusterctl or
// catalina.sh sets it ("" when it is free).
func ownedJVMOption(o string) string {
	for _, p := range []struct{ prefix, why string }{
		{"-Djava.home=", "java.home is set by the inventory's java.home"},
		{"-Dcatalina.home=", "catalina.sh sets it from tomcat.prefix"},
		{"-Dcatalina.base=", "catalina.sh sets it from tomcat.prefix"},
		{"-Djava.io.tmpdir=", "catalina.sh sets it to Tomcat's temp directory"},
		{"-Djava.util.logging.manager=", "catalina.sh sets Tomcat's own logging manager"},
	} {
		if strings.HasPrefix(o, p.prefix) {
			return p.why
		}
	}
	return ""
}

func (c *checker) memcached(inv *Inventory) {
	m := inv.Memcached
	c.port("memcached.port", m.Port)
	c.positive("memcached.memory_mb", m.MemoryMB)
	c.positive("memcached.max_connections", m.MaxConnections)
}

// storageKeyPrefixRE is one token of MSM's storageKeyPrefix.
var storageKeyPrefixRE = regexp.MustCompile(`^(static:\w+|host|host\.hash|context|context\.hash|webappVersion)$`)

func (c *checker) msm(inv *Inventory) {
	m := inv.MSM
	if !msmVersionRE.MatchString(m.Version) {
		c.fail("msm.version", "%q is not supported: clusterctl is built for memcached-session-manager 2.3.x", m.Version)
	}
	c.oneOf("msm.serializer", m.Serializer, SerializerJava, SerializerKryo)
	if u, err := url.Parse(m.MavenRepo); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		c.fail("msm.maven_repo", "%q is not an http(s) URL", m.MavenRepo)
	}
	// MSM takes operationTimeout in whole milliseconds.
	if d := m.OperationTimeout.Std(); d <= 0 || d%1_000_000 != 0 {
		c.fail("msm.operation_timeout", "%s must be a positive whole number of milliseconds", m.OperationTimeout)
	}
	if m.RequestURIIgnorePattern != "" {
		if err := javaRegexp(m.RequestURIIgnorePattern); err != nil {
			c.fail("msm.request_uri_ignore_pattern", "%v", err)
		}
	}
	if m.StorageKeyPrefix != "" {
		for _, tok := range strings.Split(m.StorageKeyPrefix, ",") {
			if !storageKeyPrefixRE.MatchString(tok) {
				c.fail("msm.storage_key_prefix", "%q is not one of static:<word>, host, host.hash, context, context.hash, webappVersion (comma-separated)", tok)
			}
		}
	}
}

func (c *checker) nginx(inv *Inventory) {
	n := inv.Nginx
	c.port("nginx.listen", n.Listen)
	c.oneOf("nginx.balance", n.Balance, BalanceSticky, BalanceIPHash, BalanceRoundRobin)
	// docs/msm.md: a non-sticky balancer breaks sticky mode (each Tomcat keeps
	// serving its own stale local copy of the session).
	if n.Balance == BalanceRoundRobin && inv.MSM.Sticky {
		c.fail("nginx.balance", "round_robin breaks msm.sticky: true (each Tomcat would serve its own stale copy of a session); use sticky or ip_hash, or set msm.sticky: false")
	}
}

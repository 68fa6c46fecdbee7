package cli

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clusterctl/clusterctl/assets"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/sshtest"
)

// closedPort returns a loopback port where nothing listens: it binds one,
// then releases it.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// loopbackInventory writes an inventory of the seed's shape whose hosts are
// loopback addresses on sshPort, with a real (unauthorised) key file.
func loopbackInventory(t *testing.T, sshPort string) string {
	t.Helper()
	dir := t.TempDir()
	key := sshtest.NewClientKey(t, "")
	inv := `cluster:
  name: lo
  domain: lo.test
  timezone: UTC
ssh:
  user: root
  port: ` + sshPort + `
  key_files: [` + key.Path + `]
  agent: false
  known_hosts: ./known_hosts
  connect_timeout: 3s
  config: none
hosts:
  - {name: proxy, address: 127.0.0.1, roles: [proxy]}
  - {name: t58, address: 127.0.0.2, roles: [tomcat, memcached]}
  - {name: t68, address: 127.0.0.3, roles: [tomcat, memcached]}
java: {install: package}
tomcat: {version: 9.0.70}
artifacts: {dir: ./artifacts}
msm: {maven_repo: "http://127.0.0.1:1/never"}
`
	// The MSM jars apply resolves before it dials: present, so these tests
	// reach the hosts (and never a real repository).
	writeArtifacts(t, filepath.Join(dir, "artifacts"), "memcached-session-manager-2.3.2.jar", "memcached-session-manager-tc9-2.3.2.jar", "spymemcached-2.12.3.jar",
		"apache-tomcat-9.0.70.tar.gz", "apache-tomcat-9.0.70.tar.gz.sha512")
	path := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeArtifacts fills dir with stand-ins for the named artifacts: each
// file holds its own name, a .tar.gz is a real (one-file) gzip tarball, as
// the local checks want one.
func writeArtifacts(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b := []byte(n)
		if strings.HasSuffix(n, ".tar.gz") {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			tw := tar.NewWriter(zw)
			tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b))})
			tw.Write(b)
			tw.Close()
			zw.Close()
			b = buf.Bytes()
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// An unreachable host stops apply in its preflight, before any host is
// touched: one table row per host, and the summary says nothing changed.
func TestApplyUnreachableHostsStopThePreflight(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	code, out, errOut := run("-i", inv, "apply")
	if code != ExitHostFailed {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitHostFailed, out, errOut)
	}
	for _, h := range []string{"proxy", "t58", "t68"} {
		if n := linesNaming(out, h, " connect ", "connection refused"); n != 1 {
			t.Errorf("host %s: %d table rows naming the refused connection, want 1:\n%s", h, n, out)
		}
	}
	if !regexp.MustCompile(`preflight: 3 check\(s\) failed on proxy, t58, t68 \(proxy connect: [^;]*connection refused; t58 connect: [^;]*; t68 connect: [^;]*\); nothing was changed on any host`).MatchString(errOut) {
		t.Errorf("stderr lacks the summary naming each failed check: %q", errOut)
	}
}

// With the connect check skipped, apply works on the hosts it can reach
// and reports the others as failed connects, as before the preflight.
func TestApplyUnreachableHostsFailsWithOneLinePerHost(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	code, out, errOut := run("-i", inv, "apply", "--dry-run", "--skip-preflight", "connect")
	if code != ExitHostFailed {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitHostFailed, out, errOut)
	}
	for _, h := range []string{"proxy", "t58", "t68"} {
		// One live line for the failed connect step, one in the recap table.
		if n := linesNaming(out, h, "connect", "connection refused"); n != 2 {
			t.Errorf("host %s: %d lines naming the refused connection, want 2:\n%s", h, n, out)
		}
	}
	if strings.Contains(out+errOut, "goroutine") || strings.Contains(out+errOut, "panic") {
		t.Errorf("stack trace in output:\n%s%s", out, errOut)
	}
	if !strings.Contains(errOut, "3 of 3 hosts failed") {
		t.Errorf("stderr lacks the summary: %q", errOut)
	}
}

func TestApplyDryRunShowsEffectiveInventory(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	_, out, _ := run("-i", inv, "apply", "--dry-run")
	// Defaults the file does not set must be shown resolved.
	for _, want := range []string{"# effective inventory", "fqdn: t58.lo.test", "memory_mb: 64", "balance: sticky"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q", want)
		}
	}
}

func TestApplyJSONEventsParse(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	code, out, _ := run("-i", inv, "apply", "-o", "json", "--skip-preflight", "connect")
	if code != ExitHostFailed {
		t.Fatalf("exit %d, want %d", code, ExitHostFailed)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	types := map[string]int{}
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line is not JSON: %q: %v", sc.Text(), err)
		}
		types[ev["type"].(string)]++
	}
	if types["recap"] != 1 || types["host_done"] != 3 || types["preflight"] != 3*(len(preflight.Checks)-1) {
		t.Errorf("event types %v: want 1 recap, 3 host_done and a preflight event for each host's checks but the clock", types)
	}
}

func TestBadInventoryExits2WithPosition(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(path, []byte("cluster:\n  name: x\n  colour: blue\n"), 0o644)
	code, _, errOut := run("-i", path, "apply")
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(errOut, "inv.yaml:3:3: cluster.colour") {
		t.Errorf("error lacks file:line:column and field: %q", errOut)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	cases := map[string][]string{
		"unknown host":  {"-i", inv, "apply", "--hosts", "t99"},
		"bad output":    {"-i", inv, "apply", "-o", "yaml"},
		"unknown flag":  {"apply", "--frobnicate"},
		"missing file":  {"-i", filepath.Join(t.TempDir(), "nope.yaml"), "apply"},
		"bad parallel":  {"-i", inv, "apply", "--parallel", "0"},
		"stray arg":     {"-i", inv, "apply", "extra"},
		"unknown verb":  {"frobnicate"},
		"lab bad count": {"lab", "up", "--tomcats", "x"},
	}
	for name, args := range cases {
		if code, out, errOut := run(args...); code != ExitUsage {
			t.Errorf("%s: exit %d, want %d\n%s%s", name, code, ExitUsage, out, errOut)
		}
	}
}

// verify is built: an unreachable host is a failed "ssh" check naming the
// cause, every host is still reported, the drill is skipped (it could not
// undo its disruptions), and the exit code is 1.
func TestVerifyUnreachableHostsFail(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	code, out, errOut := run("-i", inv, "verify")
	if code != ExitHostFailed || !strings.Contains(errOut, "3 of 9 checks failed") {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitHostFailed, out, errOut)
	}
	for _, h := range []string{"proxy", "t58", "t68"} {
		if !regexp.MustCompile(`(?m)^` + h + ` +health +ssh +failed .*connection refused`).MatchString(out) {
			t.Errorf("no failed ssh line for %s:\n%s", h, out)
		}
	}
	if !strings.Contains(out, "drill not run: not every host is reachable over SSH (proxy, t58, t68)") {
		t.Errorf("drill skip not explained:\n%s", out)
	}
}

func TestVerifyJSONAndNoDrill(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	code, out, _ := run("-i", inv, "verify", "--no-drill", "-o", "json")
	if code != ExitHostFailed {
		t.Fatalf("exit %d", code)
	}
	types := map[string]int{}
	var last map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line is not JSON: %q: %v", sc.Text(), err)
		}
		types[ev["type"].(string)]++
		if ev["type"] == "check" {
			for _, k := range []string{"phase", "host", "check", "status", "reason", "latency_ms"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("check event lacks %q: %v", k, ev)
				}
			}
			if ev["phase"] == "drill" {
				t.Errorf("--no-drill ran a drill step: %v", ev)
			}
		}
		last = ev
	}
	// Three hosts down (ssh failed) and the cluster's takeover check (skipped).
	if types["verify_start"] != 1 || types["check"] != 4 || types["summary"] != 1 {
		t.Errorf("event types %v", types)
	}
	if last["type"] != "summary" || last["failed"] != 3.0 || last["drill"] != false {
		t.Errorf("summary %v", last)
	}
}

func TestVerifyBadInventoryExits2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(path, []byte("cluster:\n  name: x\n  colour: blue\n"), 0o644)
	if code, _, errOut := run("-i", path, "verify"); code != ExitUsage || !strings.Contains(errOut, "cluster.colour") {
		t.Fatalf("exit %d, want %d: %q", code, ExitUsage, errOut)
	}
}

// teardown is built: an unreachable host fails it like apply (exit 1, the
// host named), and --keep-packages is a known flag.
func TestTeardownUnreachableHostsFail(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	code, out, errOut := run("-i", inv, "teardown", "--dry-run", "--keep-packages")
	if code != ExitHostFailed || !strings.Contains(errOut, "nothing was changed on any host") || !strings.Contains(out, "connection refused") {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitHostFailed, out, errOut)
	}
}

func TestHelpShowsExamples(t *testing.T) {
	for _, verb := range []string{"apply", "verify", "teardown", "lab", "version"} {
		code, out, _ := run(verb, "--help")
		if code != ExitOK || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d, no Examples section:\n%s", verb, code, out)
		}
	}
}

// A misspelt --skip-preflight is bad usage (exit 2), found before any host
// is contacted, and names the checks there are.
func TestSkipPreflightTypoExits2(t *testing.T) {
	port, contacted := countingListener(t)
	inv := loopbackInventory(t, port)
	for _, verb := range []string{"apply", "teardown", "preflight", "verify"} {
		code, _, errOut := run("-i", inv, verb, "--skip-preflight", "prots")
		if code != ExitUsage || !strings.Contains(errOut, `"prots": no such check`) || !strings.Contains(errOut, "ports") {
			t.Errorf("%s: exit %d, want %d: %q", verb, code, ExitUsage, errOut)
		}
	}
	if code, _, errOut := run("-i", inv, "restart", "tomcat", "--skip-preflight", "prots"); code != ExitUsage {
		t.Errorf("restart: exit %d, want %d: %q", code, ExitUsage, errOut)
	}
	if n := contacted.Load(); n > 0 {
		t.Errorf("%d connection(s) to the hosts before the flag was checked", n)
	}
}

// linesNaming counts the lines of out that start with host and hold every
// one of words.
func linesNaming(out, host string, words ...string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		ok := strings.HasPrefix(line, host+" ")
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			n++
		}
	}
	return n
}

// countingListener is an SSH port for loopback hosts that counts the
// connections made to it: one that must stay at 0 proves no host was
// contacted.
func countingListener(t *testing.T) (port string, contacted *atomic.Int32) {
	t.Helper()
	contacted = &atomic.Int32{}
	addr := sshtest.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		contacted.Add(1)
		c.Close()
	})
	_, port, _ = net.SplitHostPort(addr)
	return port, contacted
}

// A bad value in the ssh_config is a usage error naming its file and
// line, found before any host is contacted; a directive clusterctl does
// not honour is named in a warning, and the dry run says where each
// setting came from.
func TestSSHConfigProblemsNamedBeforeAnyHost(t *testing.T) {
	port, contacted := countingListener(t)
	inv := loopbackInventory(t, port)
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	text, _ := os.ReadFile(inv)
	os.WriteFile(inv, []byte(strings.Replace(string(text), "config: none", "config: "+cfg, 1)), 0o644)

	os.WriteFile(cfg, []byte("Host t58\n  ProxyJump ops@\n"), 0o600)
	for _, verb := range []string{"apply", "verify", "teardown", "preflight"} {
		code, _, errOut := run("-i", inv, verb)
		if code != ExitUsage || !strings.Contains(errOut, "t58: "+cfg+`:2: ProxyJump entry "ops@" is not [user@]host[:port]`) {
			t.Errorf("%s: exit %d, want %d naming the line: %q", verb, code, ExitUsage, errOut)
		}
	}
	if n := contacted.Load(); n > 0 {
		t.Errorf("%d connection(s) to the hosts with a bad ssh_config", n)
	}

	os.WriteFile(cfg, []byte("Host t68\n  HostName 127.0.0.9\n  ProxyCommand nc %h %p\nMatch exec \"true\"\n  User x\n"), 0o600)
	_, out, errOut := run("-i", inv, "apply", "--dry-run", "--skip-preflight", "connect")
	for _, want := range []string{
		"warning: " + cfg + ":3: ProxyCommand for t68 is not supported and not applied",
		"warning: " + cfg + ":4: `Match exec \"true\"` is not evaluated",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "#     address          127.0.0.9  ("+cfg+":2)") || !strings.Contains(out, "#   t58: root@127.0.0.2:"+port) {
		t.Errorf("the dry run's SSH settings are not shown with their sources:\n%s", out)
	}
}

// msm.serializer: kryo with the kryo jars nowhere (not in artifacts.dir,
// the repository unreachable): exit 2 before any host is contacted, naming
// every missing jar and where to put it.
func TestKryoJarsMissingNamedBeforeAnyHost(t *testing.T) {
	port, contacted := countingListener(t)
	inv := loopbackInventory(t, port)
	b, _ := os.ReadFile(inv)
	os.WriteFile(inv, []byte(strings.Replace(string(b), `msm: {maven_repo:`, `msm: {serializer: kryo, maven_repo:`, 1)), 0o644)
	t.Setenv("CLUSTERCTL_MAVEN_CACHE", t.TempDir())
	code, _, errOut := run("-i", inv, "apply")
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d: %s", code, ExitUsage, errOut)
	}
	for _, jar := range []string{"msm-kryo-serializer-2.3.2.jar", "kryo-4.0.0.jar", "kryo-serializers-0.41.jar", "reflectasm-1.11.3.jar", "minlog-1.3.0.jar", "asm-5.0.4.jar", "objenesis-2.2.jar"} {
		if !strings.Contains(errOut, jar) {
			t.Errorf("the error does not name %s: %s", jar, errOut)
		}
	}
	if strings.Contains(errOut, "memcached-session-manager-2.3.2.jar,") || !strings.Contains(errOut, "put them into artifacts.dir "+filepath.Join(filepath.Dir(inv), "artifacts")) {
		t.Errorf("the error names a jar that is there, or not where to put them: %s", errOut)
	}
	if n := contacted.Load(); n > 0 {
		t.Errorf("%d connection(s) to the hosts although the jars were missing", n)
	}
}

// rollback of an app the inventory does not name is a usage error naming
// the apps there are, before any host is contacted.
func TestRollbackOfAnUnknownAppExits2(t *testing.T) {
	port, contacted := countingListener(t)
	inv := loopbackInventory(t, port)
	text, _ := os.ReadFile(inv)
	dir := filepath.Dir(inv)
	os.WriteFile(filepath.Join(dir, "artifacts", "shop.war"), []byte("war"), 0o644)
	os.WriteFile(filepath.Join(dir, "artifacts", "shop.war.sha256"), []byte(strings.Repeat("a", 64)+"\n"), 0o644)
	os.WriteFile(inv, append(text, "apps:\n  - {name: shop, war: shop.war, path: /shop}\n"...), 0o644)
	code, _, errOut := run("-i", inv, "rollback", "cart")
	if code != ExitUsage || !strings.Contains(errOut, `no app "cart" in the inventory (apps: shop)`) || !strings.Contains(errOut, inv) {
		t.Errorf("rollback cart: exit %d, want %d naming the apps: %q", code, ExitUsage, errOut)
	}
	if n := contacted.Load(); n > 0 {
		t.Errorf("%d connection(s) to the hosts", n)
	}
}

// Usage errors name what would have been right, and the lab refuses the
// global flags it cannot honour before it touches anything (lab down
// --dry-run must not take the lab down).
func TestUsageErrorsSayWhatIsValid(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"restart without what": {[]string{"restart"}, "restart takes what to restart: tomcat"},
		"rollback without app": {[]string{"rollback"}, "rollback takes the name of one app"},
		"drill without =":      {[]string{"verify", "--drill", "hard"}, "write --drill=hard (with =)"},
		"bad colour":           {[]string{"apply", "--color", "sometimes"}, "--color must be auto, always or never"},
		"lab down dry run":     {[]string{"lab", "down", "--dry-run", "--dir", t.TempDir()}, "lab down does not take --dry-run"},
		"lab up on hosts":      {[]string{"lab", "up", "--hosts", "t58", "--dir", t.TempDir()}, "lab up does not take --hosts"},
	} {
		code, out, errOut := run(c.args...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q, want %d naming %q\n%s", name, code, errOut, ExitUsage, c.want, out)
		}
	}
}

// init writes a starter that apply then reads (its dry run gets as far as
// the artifacts: the tarball is the user's to add), keeps an existing file,
// and a missing inventory points at init, -i and the lab.
func TestInitWritesAnInventoryThatLoads(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "inventory.yaml")
	key := sshtest.NewClientKey(t, "")
	code, out, errOut := run("-i", inv, "init", "--proxy", "127.0.0.1", "--tomcat", "127.0.0.2", "--tomcat", "127.0.0.3", "--domain", "lo.test", "--key", key.Path)
	if code != ExitOK || !strings.Contains(out, "wrote "+inv) {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	schema, err := os.ReadFile(filepath.Join(filepath.Dir(inv), "inventory.schema.json"))
	if err != nil || !bytes.Equal(schema, assets.InventorySchema) || !json.Valid(schema) {
		t.Errorf("init wrote no schema beside the inventory, or another one: %v", err)
	}
	if text, _ := os.ReadFile(inv); !strings.HasPrefix(string(text), "# yaml-language-server: $schema=inventory.schema.json\n") {
		t.Errorf("the starter does not point editors at the schema:\n%.200s", text)
	}
	if code, out, _ := run("inventory", "schema"); code != ExitOK || out != string(assets.InventorySchema) {
		t.Errorf("inventory schema: exit %d, %d bytes, want the shipped schema", code, len(out))
	}
	code, _, errOut = run("-i", inv, "apply", "--dry-run")
	if code != ExitUsage || !strings.Contains(errOut, "tomcat.tarball") || strings.Contains(errOut, "hosts[") {
		t.Errorf("apply --dry-run of the starter: exit %d, want 2 naming the missing tarball only:\n%s", code, errOut)
	}
	if code, _, errOut := run("-i", inv, "init", "--proxy", "127.0.0.1", "--tomcat", "127.0.0.2", "--tomcat", "127.0.0.3"); code != ExitUsage || !strings.Contains(errOut, "exists: kept") {
		t.Errorf("init over an existing file: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run("-i", inv, "init", "--force", "--proxy", "127.0.0.1", "--tomcat", "127.0.0.2"); code != ExitUsage || !strings.Contains(errOut, "needs at least 2 tomcat hosts") {
		t.Errorf("init with one Tomcat: exit %d, want 2 naming the rule: %s", code, errOut)
	}
	code, _, errOut = run("-i", filepath.Join(t.TempDir(), "inventory.yaml"), "apply")
	if code != ExitUsage || !strings.Contains(errOut, "clusterctl init --proxy") || !strings.Contains(errOut, "clusterctl lab up") {
		t.Errorf("a missing inventory: exit %d: %s", code, errOut)
	}
}

// status on hosts that do not answer says so per host and exits 1; it
// never asks for a lock or a preflight.
func TestStatusOfUnreachableHosts(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	code, out, errOut := run("-i", inv, "status")
	if code != ExitHostFailed || strings.Count(out, "unreachable") != 3 || !strings.Contains(errOut, "3 of 3 hosts could not be read") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run("-i", inv, "status", "-o", "json")
	var st struct {
		Type     string
		Hosts    []struct{ Host, Error string }
		Problems []string
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &st); err != nil || code != ExitHostFailed || st.Type != "status" || len(st.Hosts) != 3 || st.Hosts[0].Error == "" || len(st.Problems) != 3 {
		t.Errorf("json: exit %d, %v, %+v\n%s", code, err, st, out)
	}
}

// Shell completion offers what is valid: restart's argument, the
// inventory's hosts for --hosts, --color's values.
func TestCompletionOffersValidValues(t *testing.T) {
	inv := loopbackInventory(t, closedPort(t))
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "restart", ""}, []string{"tomcat"}},
		{[]string{"__complete", "-i", inv, "apply", "--hosts", ""}, []string{"proxy", "t58", "t68"}},
		{[]string{"__complete", "apply", "--color", ""}, []string{"auto", "always", "never"}},
	} {
		_, out, _ := run(c.args...)
		for _, w := range c.want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("%v: %q lacks %s", c.args, out, w)
			}
		}
	}
}

// $CLUSTERCTL_INVENTORY names the inventory when -i is not given.
func TestInventoryFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "prod.yaml")
	t.Setenv(EnvInventory, inv)
	key := sshtest.NewClientKey(t, "")
	if code, out, errOut := run("init", "--proxy", "127.0.0.1", "--tomcat", "127.0.0.2", "--tomcat", "127.0.0.3", "--key", key.Path); code != ExitOK || !strings.Contains(out, "wrote "+inv) {
		t.Fatalf("init with $%s: exit %d\n%s%s", EnvInventory, code, out, errOut)
	}
	if _, err := os.Stat(inv); err != nil {
		t.Fatal(err)
	}
}

// Every global flag can come from CLUSTERCTL_<NAME>; the command line
// wins, a bad value names its variable, the lab refuses the variables of
// the flags it refuses, and the flags that override a safety are never
// read from the environment.
func TestGlobalFlagsFromTheEnvironment(t *testing.T) {
	port, contacted := countingListener(t)
	inv := loopbackInventory(t, port)
	t.Setenv("CLUSTERCTL_OUTPUT", "xml")
	if code, _, errOut := run("-i", inv, "status"); code != ExitUsage || !strings.Contains(errOut, `CLUSTERCTL_OUTPUT (--output) must be text or json, not "xml"`) {
		t.Errorf("CLUSTERCTL_OUTPUT=xml: exit %d: %s", code, errOut)
	}
	t.Setenv("CLUSTERCTL_CONNECT_TIMEOUT", "soon")
	if code, _, errOut := run("-i", inv, "-o", "json", "status"); code != ExitUsage || !strings.Contains(errOut, `CLUSTERCTL_CONNECT_TIMEOUT="soon"`) {
		t.Errorf("CLUSTERCTL_CONNECT_TIMEOUT=soon with -o json: exit %d: %s", code, errOut)
	}
	t.Setenv("CLUSTERCTL_CONNECT_TIMEOUT", "")
	t.Setenv("CLUSTERCTL_OUTPUT", "json")
	t.Setenv("CLUSTERCTL_HOSTS", "t99")
	if code, _, errOut := run("-i", inv, "apply"); code != ExitUsage || !strings.Contains(errOut, "t99") {
		t.Errorf("CLUSTERCTL_HOSTS=t99: exit %d: %s", code, errOut)
	}
	t.Setenv("CLUSTERCTL_HOSTS", "")
	t.Setenv("CLUSTERCTL_DRY_RUN", "true")
	if code, _, errOut := run("lab", "down", "--dir", t.TempDir()); code != ExitUsage || !strings.Contains(errOut, "does not take CLUSTERCTL_DRY_RUN, CLUSTERCTL_OUTPUT") {
		t.Errorf("lab down with CLUSTERCTL_DRY_RUN: exit %d: %s", code, errOut)
	}
	root, _ := newRootCommand(io.Discard, io.Discard)
	for name := range envNever {
		if root.PersistentFlags().Lookup(name) == nil {
			t.Errorf("envNever names --%s, which is no global flag", name)
		}
		t.Setenv(EnvName(name), "true")
	}
	from, err := flagsFromEnv(root.PersistentFlags())
	if err != nil || from["dry-run"] != "CLUSTERCTL_DRY_RUN" || from["force-unlock"] != "" || from["unsafe-no-drain"] != "" {
		t.Errorf("flags from the environment: %v, %v; want dry-run and none of the safety overrides", from, err)
	}
	if n := contacted.Load(); n > 0 {
		t.Errorf("%d connection(s) to the hosts", n)
	}
}

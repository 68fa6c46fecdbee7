package playbooks

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/assets"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/topology"
	"github.com/clusterctl/clusterctl/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/* from the current templates (go test ./playbooks -run Golden -update)")

const (
	shippedInventory = "../inventory.yaml"
	managedHeader    = "managed by clusterctl — changes will be overwritten"
)

// loadInventory parses the shipped inventory after applying edits to its
// text, so variants go through the same decoding, defaults and validation.
func loadInventory(t *testing.T, edits ...string) *inventory.Inventory {
	t.Helper()
	data, err := os.ReadFile(shippedInventory)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("inventory edit: %q not found in %s", edits[i], shippedInventory)
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	inv, err := inventory.Parse(shippedInventory, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func target(t *testing.T, inv *inventory.Inventory, host string, fam engine.Family) Target {
	t.Helper()
	topo, err := topology.Build(inv)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := inv.Host(host)
	if !ok {
		t.Fatalf("no host %q", host)
	}
	return Target{Inv: inv, Topo: topo, Host: h, Family: fam}
}

// labTime is the lab's time layout (internal/lab/inventory.go): every host,
// the proxy included, names the proxy as its NTP server.
var labTime = []string{"ntp_servers: [ntp1.aliyun.com]", "ntp_servers: [proxy.shone.cn]"}

// TestGolden renders the seed's files and compares them byte for byte with
// testdata/golden; review a changed golden file against the seed by eye.
func TestGolden(t *testing.T) {
	seed := loadInventory(t)
	withBalance := func(b string) *inventory.Inventory {
		inv := loadInventory(t)
		// round_robin with sticky MSM is refused by validation (it breaks
		// MSM); the template still renders it, so edit the loaded struct.
		inv.Nginx.Balance = b
		return inv
	}
	lab := loadInventory(t, labTime...)
	withApps := loadInventory(t)
	withApps.Apps = []inventory.App{{Name: "shop", Path: "/shop", Health: "/"}, {Name: "home", Path: "/", Health: "/"}}
	deb, rhel := engine.FamilyDebian, engine.FamilyRHEL

	cases := []struct {
		golden string
		render func() ([]byte, error)
	}{
		{"nginx.debian.sticky.conf", target(t, seed, "proxy", deb).NginxConf},
		{"nginx.rhel.sticky.conf", target(t, seed, "proxy", rhel).NginxConf},
		{"nginx.debian.round_robin.conf", target(t, withBalance(inventory.BalanceRoundRobin), "proxy", deb).NginxConf},
		{"nginx.debian.ip_hash.conf", target(t, withBalance(inventory.BalanceIPHash), "proxy", deb).NginxConf},
		{"nginx.debian.apps.conf", target(t, withApps, "proxy", deb).NginxConf},
		{"context.t58.xml", target(t, seed, "t58", deb).ContextXML},
		{"context.t68.xml", target(t, seed, "t68", rhel).ContextXML},
		{"server.t58.xml", target(t, seed, "t58", deb).ServerXML},
		{"tomcat.t58.service", target(t, seed, "t58", deb).TomcatService},
		{"memcached.debian.t58.conf", target(t, seed, "t58", deb).MemcachedConf},
		{"memcached.rhel.t58.sysconfig", target(t, seed, "t58", rhel).MemcachedConf},
		{"chrony.debian.t58.conf", target(t, seed, "t58", deb).ChronyConf},
		{"chrony.rhel.t58.conf", target(t, seed, "t58", rhel).ChronyConf},
		{"chrony.debian.lab-proxy.conf", target(t, lab, "proxy", deb).ChronyConf},
		{"chrony.rhel.lab-t58.conf", target(t, lab, "t58", rhel).ChronyConf},
		{"jdk.t58.sh", target(t, seed, "t58", deb).JDKProfile},
		{"tomcat.t58.sh", target(t, seed, "t58", deb).TomcatProfile},
		{"hosts.block", func() ([]byte, error) { return templates.Render("hosts.tmpl", seed.AllHosts()) }},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			got, err := c.render()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(got, []byte(managedHeader)) {
				t.Errorf("no %q header", managedHeader)
			}
			if bytes.Contains(got, []byte("<no value>")) {
				t.Errorf("renders <no value>")
			}
			compareGolden(t, c.golden, got)
		})
	}
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./playbooks -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering; if the change is intended, run go test ./playbooks -run Golden -update and review the diff.\n--- got ---\n%s", file, got)
	}
}

// TestNginxStickyRoutes: every Tomcat gets its own upstream with the others
// as backups, and the route map covers every jvmRoute.
func TestNginxStickyRoutes(t *testing.T) {
	t68 := "    address: 192.168.250.68\n    roles: [tomcat, memcached]\n"
	inv := loadInventory(t, t68, t68+"  - name: t78\n    address: 192.168.250.78\n    roles: [tomcat, memcached]\n")
	got, err := target(t, inv, "proxy", engine.FamilyDebian).NginxConf()
	if err != nil {
		t.Fatal(err)
	}
	conf := string(got)
	addr := map[string]string{"t58": "192.168.250.58:8080", "t68": "192.168.250.68:8080", "t78": "192.168.250.78:8080"}
	for route, primary := range addr {
		block := regexp.MustCompile(`(?s)upstream tomcat_` + route + ` \{(.*?)\}`).FindStringSubmatch(conf)
		if block == nil {
			t.Fatalf("no upstream tomcat_%s in\n%s", route, conf)
		}
		if !strings.Contains(block[1], "server "+primary+";") {
			t.Errorf("tomcat_%s: %s is not the primary:%s", route, primary, block[1])
		}
		for other, a := range addr {
			if other != route && !strings.Contains(block[1], "server "+a+" backup;") {
				t.Errorf("tomcat_%s: %s is not a backup:%s", route, a, block[1])
			}
		}
		if !regexp.MustCompile(`(?m)^\s+` + route + `\s+tomcat_` + route + `;`).MatchString(conf) {
			t.Errorf("map $msm_route has no %s entry", route)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^\s*upstream \S+ \{`).FindAllString(conf, -1)); n != 4 {
		t.Errorf("%d upstreams, want tomcat-servers + 3", n)
	}
	if !strings.Contains(conf, "server 192.168.250.78:8080;  # t78.shone.cn") {
		t.Errorf("tomcat-servers lacks t78")
	}
}

// TestChronyTimeSource: a host named in others' ntp_servers serves them;
// nobody lists itself.
func TestChronyTimeSource(t *testing.T) {
	inv := loadInventory(t, labTime...)
	proxy := target(t, inv, "proxy", engine.FamilyDebian)
	got, err := proxy.ChronyConf()
	if err != nil {
		t.Fatal(err)
	}
	conf := string(got)
	for _, want := range []string{"allow 192.168.250.58", "allow 192.168.250.68", "local stratum 10"} {
		if !strings.Contains(conf, want) {
			t.Errorf("proxy chrony.conf lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^server `).MatchString(conf) || strings.Contains(conf, "allow 192.168.250.8") {
		t.Errorf("proxy serves or asks itself:\n%s", conf)
	}
	got, err = target(t, inv, "t68", engine.FamilyRHEL).ChronyConf()
	if err != nil {
		t.Fatal(err)
	}
	if conf := string(got); !strings.Contains(conf, "server proxy.shone.cn iburst\n") || strings.Contains(conf, "allow") || strings.Contains(conf, "local stratum") {
		t.Errorf("t68 chrony.conf:\n%s", conf)
	}

	// No ntp_servers anywhere: time is left alone.
	none := loadInventory(t, "  ntp_servers: [ntp1.aliyun.com]\n", "")
	tg := target(t, none, "t58", engine.FamilyDebian)
	if tg.ManagesTime() {
		t.Error("ManagesTime with no ntp_servers")
	}
	if _, err := tg.ChronyConf(); err == nil {
		t.Error("ChronyConf with no ntp_servers: no error")
	}
}

// TestContextXMLOptions: kryo, storageKeyPrefix, async and escaping.
func TestContextXMLOptions(t *testing.T) {
	inv := loadInventory(t,
		"serializer: java", "serializer: kryo",
		`request_uri_ignore_pattern: '.*\.(ico|png|gif|jpg|jpeg|css|js|html|txt)$'`, `request_uri_ignore_pattern: '.*\.(ico|png)$|^/a&b"<c>'`,
		"# session_backup_async: false", "session_backup_async: true",
		"# operation_timeout: 1s", "operation_timeout: 1500ms",
		`# storage_key_prefix: ""`, `storage_key_prefix: "static:x,context"`,
	)
	got, err := target(t, inv, "t68", engine.FamilyDebian).ContextXML()
	if err != nil {
		t.Fatal(err)
	}
	conf := string(got)
	for _, want := range []string{
		`transcoderFactoryClass="de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory"`,
		`requestUriIgnorePattern=".*\.(ico|png)$|^/a&amp;b&quot;&lt;c&gt;"`,
		`sessionBackupAsync="true"`,
		`operationTimeout="1500"`,
		`storageKeyPrefix="static:x,context"`,
		`failoverNodes="n2"`,
		`memcachedNodes="n1:192.168.250.58:11211,n2:192.168.250.68:11211"`,
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("context.xml lacks %s:\n%s", want, conf)
		}
	}

	// Non-sticky: no failoverNodes.
	inv = loadInventory(t, "sticky: true", "sticky: false")
	got, err = target(t, inv, "t58", engine.FamilyDebian).ContextXML()
	if err != nil {
		t.Fatal(err)
	}
	if conf := string(got); strings.Contains(conf, "failoverNodes") || !strings.Contains(conf, `sticky="false"`) {
		t.Errorf("non-sticky context.xml:\n%s", conf)
	}
}

func TestServerXMLShutdownPort(t *testing.T) {
	for _, port := range []int{0, -1} {
		inv := loadInventory(t)
		inv.Tomcat.ShutdownPort = port // validation refuses these; a hand-built inventory may not
		got, err := target(t, inv, "t58", engine.FamilyDebian).ServerXML()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), `<Server port="-1" address="127.0.0.1"`) {
			t.Errorf("shutdown_port %d: not disabled:\n%s", port, got)
		}
	}
}

func TestMemcachedLoopbackAddress(t *testing.T) {
	inv := loadInventory(t, "address: 192.168.250.58", "address: 127.0.0.58")
	got, err := target(t, inv, "t58", engine.FamilyRHEL).MemcachedConf()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `OPTIONS="-l 127.0.0.58 -U 0"`) {
		t.Errorf("loopback cluster address:\n%s", got)
	}
}

// TestRenderErrors: a wrong host, family, template name or data key fails
// instead of writing a broken file.
func TestRenderErrors(t *testing.T) {
	inv := loadInventory(t)
	proxy := target(t, inv, "proxy", engine.FamilyDebian)
	t58 := target(t, inv, "t58", engine.FamilyDebian)
	bad := target(t, inv, "proxy", "suse")
	for name, f := range map[string]func() ([]byte, error){
		"context.xml on proxy":    proxy.ContextXML,
		"server.xml on proxy":     proxy.ServerXML,
		"tomcat.service on proxy": proxy.TomcatService,
		"memcached on proxy":      proxy.MemcachedConf,
		"jdk.sh on proxy":         proxy.JDKProfile,
		"nginx.conf on t58":       t58.NginxConf,
		"unknown family":          bad.NginxConf,
		"unknown balance": func() ([]byte, error) {
			tg := target(t, loadInventory(t), "proxy", engine.FamilyDebian)
			tg.Inv.Nginx.Balance = "least_conn"
			return tg.NginxConf()
		},
		"unknown serializer": func() ([]byte, error) {
			tg := target(t, loadInventory(t), "t58", engine.FamilyDebian)
			tg.Inv.MSM.Serializer = "xstream"
			return tg.ContextXML()
		},
		"bad template name": func() ([]byte, error) { return templates.Render("nope.tmpl", nil) },
		"missing key": func() ([]byte, error) {
			return templates.Render("hosts.tmpl", []map[string]string{{"Address": "10.0.0.1", "Name": "x"}})
		},
		"missing field": func() ([]byte, error) { return templates.Render("jdk.sh.tmpl", struct{ CatalinaHome string }{}) },
	} {
		if out, err := f(); err == nil {
			t.Errorf("%s: no error; rendered:\n%s", name, out)
		}
	}
	if _, err := bad.Paths(); err == nil {
		t.Error("Paths for an unknown family: no error")
	}
}

func TestPaths(t *testing.T) {
	inv := loadInventory(t)
	p, err := target(t, inv, "t58", engine.FamilyRHEL).Paths()
	if err != nil {
		t.Fatal(err)
	}
	if p.MemcachedConf != "/etc/sysconfig/memcached" || p.ChronyConf != "/etc/chrony.conf" || p.ContextXML != "/usr/local/tomcat/conf/context.xml" || p.ProbeDir != "/usr/local/tomcat/webapps/probe" {
		t.Errorf("rhel paths: %+v", p)
	}
	p, err = target(t, inv, "t58", engine.FamilyDebian).Paths()
	if err != nil {
		t.Fatal(err)
	}
	if p.MemcachedConf != "/etc/memcached.conf" || p.ChronyConf != "/etc/chrony/chrony.conf" || p.NginxUser != "www-data" {
		t.Errorf("debian paths: %+v", p)
	}
}

// TestProbeAsset: the probe app is embedded where the plays deploy it from,
// and its index.jsp prints the JSON fields verify reads.
func TestProbeAsset(t *testing.T) {
	for _, f := range []string{"probe/index.jsp", "probe/demo.jsp", "probe/WEB-INF/web.xml"} {
		b, err := fs.ReadFile(assets.Probe, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(managedHeader)) {
			t.Errorf("%s: no %q header", f, managedHeader)
		}
	}
	jsp, _ := fs.ReadFile(assets.Probe, "probe/index.jsp")
	for _, want := range []string{`contentType="application/json`, `\"host\":`, `\"route\":`, `\"session\":`, `\"counter\":`, `\"new\":`} {
		if !bytes.Contains(jsp, []byte(want)) {
			t.Errorf("index.jsp lacks %s", want)
		}
	}
}

// TestNginxSyntax runs `nginx -t` on the golden nginx.conf files, with the
// paths outside the test's temp dir (log dir, pid, mime.types, modules,
// temp dirs) redirected into it and the user line dropped (the test may run as root,
// where nginx checks that the user exists).
func TestNginxSyntax(t *testing.T) {
	bin := os.Getenv("CLUSTERCTL_NGINX")
	if bin == "" {
		for _, c := range []string{"nginx", "/usr/sbin/nginx"} {
			if p, err := exec.LookPath(c); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		t.Skip("SKIP nginx syntax check: no nginx binary (not in PATH, not /usr/sbin/nginx, CLUSTERCTL_NGINX unset); install nginx to run it")
	}
	v, err := exec.Command(bin, "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("%s -V: %v\n%s", bin, err, v)
	}
	version := string(v)
	files, err := filepath.Glob("testdata/golden/nginx.*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden nginx files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range []string{"logs", "modules"} {
				if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "mime.types"), []byte("types {\n    text/html html;\n}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			conf := regexp.MustCompile(`(?m)^user .*;$`).ReplaceAllString(string(data), "# user dropped by the test")
			conf = strings.NewReplacer(
				"/var/log/nginx", filepath.Join(dir, "logs"),
				"/run/nginx.pid", filepath.Join(dir, "nginx.pid"),
				"/etc/nginx/mime.types", filepath.Join(dir, "mime.types"),
				"/etc/nginx/modules-enabled/*.conf", filepath.Join(dir, "modules", "*.conf"),
				"/usr/share/nginx/modules/*.conf", filepath.Join(dir, "modules", "*.conf"),
			).Replace(conf)
			// The binary's compiled-in temp dirs (/var/lib/nginx/...) are created
			// by -t too: point every one this build has into the temp dir.
			temps := "http {\n    client_body_temp_path " + filepath.Join(dir, "body") + ";\n    proxy_temp_path " + filepath.Join(dir, "proxy") + ";\n"
			for _, m := range []string{"fastcgi", "uwsgi", "scgi"} {
				if !strings.Contains(version, "--without-http_"+m+"_module") {
					temps += "    " + m + "_temp_path " + filepath.Join(dir, m) + ";\n"
				}
			}
			conf = strings.Replace(conf, "http {\n", temps, 1)
			for _, p := range []string{"/var/log", "/run/", "/etc/nginx", "/usr/share/nginx"} {
				if strings.Contains(conf, p) {
					t.Fatalf("test rewrite left %s in the file", p)
				}
			}
			path := filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "-t", "-p", dir+"/", "-e", filepath.Join(dir, "logs", "error.log"), "-c", path).CombinedOutput()
			if err != nil {
				t.Fatalf("nginx -t: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}

// The JVM options reach Tomcat as one CATALINA_OPTS word in the unit, heap
// first; with none the unit has no CATALINA_OPTS at all; max_threads and
// access_log_max_days land in server.xml.
func TestTomcatJVMOptionsAndConnector(t *testing.T) {
	inv := loadInventory(t, "  port: 8080\n", "  port: 8080\n  heap_mb: 512\n  java_opts: [-XX:+UseG1GC, -Dshop.mode=live]\n  max_threads: 400\n  access_log_max_days: 30\n")
	tg := target(t, inv, "t58", engine.FamilyDebian)
	unit, err := tg.TomcatService()
	if err != nil {
		t.Fatal(err)
	}
	var opts []string
	for _, l := range strings.Split(string(unit), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && k == "Environment" {
			for _, w := range systemdWords(t, v) {
				if o, ok := strings.CutPrefix(w, "CATALINA_OPTS="); ok {
					opts = append(opts, o)
				}
			}
		}
	}
	if want := "-Xms512m -Xmx512m -XX:+UseG1GC -Dshop.mode=live"; len(opts) != 1 || opts[0] != want {
		t.Errorf("CATALINA_OPTS words %q, want one %q\n%s", opts, want, unit)
	}
	server, err := tg.ServerXML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(server), `maxThreads="400"`) || !strings.Contains(string(server), `maxDays="30"`) {
		t.Errorf("server.xml without maxThreads 400 and maxDays 30:\n%s", server)
	}
	if u, _ := target(t, loadInventory(t), "t58", engine.FamilyDebian).TomcatService(); strings.Contains(string(u), "CATALINA_OPTS") {
		t.Errorf("a unit without JVM options sets CATALINA_OPTS:\n%s", u)
	}
}

package lab

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/clusterctl/clusterctl/internal/lab/artifacts"
)

// The lab inventory must be the shipped one except for the lab's values.
func TestInventoryDiffersFromShippedOnlyInLabValues(t *testing.T) {
	o, err := Options{Dir: "/x/lab", CacheDir: "/x/cache"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	hosts := plan(o)
	b, err := renderInventory(inventoryData{
		Domain: Domain, Hosts: hosts, KeyFile: o.keyFile(), KnownHosts: o.knownHostsFile(),
		Artifacts: artifacts.Manifest{Dir: "/x/art", TomcatVersion: "9.0.70",
			TomcatTarball: "apache-tomcat-9.0.70.tar.gz", JDKTarball: "jdk-17-linux-x64.tar.gz"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got, shipped map[string]any
	if err := yaml.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	sb, err := os.ReadFile("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(sb, &shipped); err != nil {
		t.Fatal(err)
	}
	// Apply the lab's differences to the shipped inventory; the rest must match.
	set := func(path string, v any) {
		keys := strings.Split(path, ".")
		m := shipped
		for _, k := range keys[:len(keys)-1] {
			m = m[k].(map[string]any)
		}
		m[keys[len(keys)-1]] = v
	}
	set("cluster.ntp_servers", []any{"proxy.shone.cn"})
	set("ssh.key_files", []any{"/x/lab/id_ed25519"})
	set("ssh.agent", false)
	set("ssh.known_hosts", "/x/lab/known_hosts")
	set("ssh.config", "none")
	set("artifacts.dir", "/x/art")
	set("java.tarball", "jdk-17-linux-x64.tar.gz")
	set("tomcat.version", "9.0.70")
	set("tomcat.tarball", "apache-tomcat-9.0.70.tar.gz")
	for _, h := range shipped["hosts"].([]any) {
		h := h.(map[string]any)
		h["address"] = strings.Replace(h["address"].(string), "192.168.250.", "10.250.0.", 1)
	}
	if !reflect.DeepEqual(got, shipped) {
		t.Errorf("lab inventory differs from the shipped one beyond the lab values:\n got %v\nwant %v", got, shipped)
	}
}

func TestPlanAddresses(t *testing.T) {
	o, _ := Options{Dir: "/x", CacheDir: "/y", Tomcats: 4}.withDefaults()
	var got []string
	for _, h := range plan(o) {
		got = append(got, h.Name+"="+h.Address)
	}
	want := "proxy=10.250.0.8 t58=10.250.0.58 t68=10.250.0.68 t78=10.250.0.78 t88=10.250.0.88"
	if strings.Join(got, " ") != want {
		t.Errorf("plan: %v, want %s", got, want)
	}
	if _, err := (Options{Dir: "/x", CacheDir: "/y", Tomcats: MaxTomcats + 1}).withDefaults(); err == nil {
		t.Error("too many tomcats accepted")
	}
	o, _ = Options{Dir: "/x", CacheDir: "/y", Tomcats: MaxTomcats}.withDefaults()
	if last := plan(o)[MaxTomcats]; last.Address != "10.250.0.248" {
		t.Errorf("last host %s", last.Address)
	}
}

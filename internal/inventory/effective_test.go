package inventory

import (
	"reflect"
	"strings"
	"testing"
)

func TestEffectiveYAML(t *testing.T) {
	inv := mustParse(t, minimal)
	out, err := inv.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"  fqdn: t58.lab.test\n",
		"  connect_timeout: 10s\n",
		"  operation_timeout: 1s\n",
		"  session_backup_async: false\n",
		"  dir: /inv/artifacts\n",
		"  tarball: apache-tomcat-9.0.70.tar.gz\n",
		"  balance: sticky\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("effective YAML lacks %q:\n%s", want, text)
		}
	}
	// It is itself a valid inventory that means the same thing.
	again, err := parse("effective.yaml", out, "/elsewhere", "/other-home")
	if err != nil {
		t.Fatalf("effective YAML does not load: %v\n%s", err, text)
	}
	again.file, again.baseDir = inv.file, inv.baseDir
	for i := range again.Hosts {
		again.Hosts[i].inherited, inv.Hosts[i].inherited = nil, nil
	}
	again.all, inv.all = nil, nil
	again.pos, inv.pos = nil, nil         // where values were written differs, by design
	again.Notices, inv.Notices = nil, nil // the effective file has the apiVersion the original lacked
	if !reflect.DeepEqual(again, inv) {
		t.Errorf("round trip differs:\n%+v\n%+v", again, inv)
	}
}

// The seed's regexp and versions must survive printing and re-reading.
func TestEffectiveYAMLOfShippedInventoryLoads(t *testing.T) {
	inv, err := Load("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := inv.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("../../effective.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if again.MSM.RequestURIIgnorePattern != `.*\.(ico|png|gif|jpg|jpeg|css|js|html|txt)$` || again.Tomcat.Version != "8.5.78" ||
		!reflect.DeepEqual(again.SSH.KeyFiles, inv.SSH.KeyFiles) || again.Artifacts.Dir != inv.Artifacts.Dir {
		t.Errorf("round trip changed values:\n%s", out)
	}
}

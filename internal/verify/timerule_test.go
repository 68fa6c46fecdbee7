package verify

import (
	"os"
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/inventory"
)

// The time-server rule, put through apply's code and verify's: with
// ntp_servers written as PROXY.shone.cn. (upper case, trailing dot) both
// find that the proxy serves the two Tomcat hosts. They used to disagree:
// apply made the proxy serve 2 clients, verify decided it served nobody
// and skipped its udp/123 check.
func TestTimeServerRuleAgreesWithApply(t *testing.T) {
	data, err := os.ReadFile("../../inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "ntp_servers: [ntp1.aliyun.com]", "ntp_servers: [PROXY.shone.cn.]", 1)
	inv, err := inventory.Parse("../../inventory.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRun(inv, nil, Timing{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	proxy, _ := inv.Host("proxy")
	if !r.servesTime(proxy) {
		t.Error("verify: the proxy serves nobody")
	}
	var names []string
	for _, c := range inv.TimeClients(proxy) { // what apply's chrony.conf renders
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "t58,t68" {
		t.Errorf("apply: the proxy serves %q, want t58,t68", names)
	}
}

package playbooks

import (
	"strings"
	"testing"

	"github.com/clusterctl/clusterctl/internal/artifacts"
)

func TestMSMCoords(t *testing.T) {
	files := func(cs []artifacts.Coord) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.File())
		}
		return strings.Join(s, " ")
	}
	if got := files(MSMCoords("2.3.2", "tc9", "java")); got != "memcached-session-manager-2.3.2.jar memcached-session-manager-tc9-2.3.2.jar spymemcached-2.12.3.jar" {
		t.Errorf("java tc9: %s", got)
	}
	got := files(MSMCoords("2.3.2", "tc8", "kryo"))
	for _, w := range []string{"memcached-session-manager-tc8-2.3.2.jar", "msm-kryo-serializer-2.3.2.jar", "kryo-4.0.0.jar", "objenesis-2.2.jar", "reflectasm-1.11.3.jar", "asm-5.0.4.jar"} {
		if !strings.Contains(got, w) {
			t.Errorf("kryo tc8 lacks %s: %s", w, got)
		}
	}
}

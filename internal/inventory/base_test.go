package inventory

import "testing"

// The error table relies on base being valid; prove it once.
func TestBaseIsValid(t *testing.T) {
	inv := mustParse(t, base)
	if len(inv.Hosts) != 3 || inv.Tomcat.Version != "9.0.70" {
		t.Fatalf("base decoded wrong: %+v", inv)
	}
}

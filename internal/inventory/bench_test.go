package inventory

import "testing"

// Loading (decode, defaults, validation) runs before every command; it
// must stay negligible next to one SSH round trip.
func BenchmarkLoadShippedInventory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Load("../../inventory.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

package inventory

import (
	"fmt"
	"strings"
	"testing"
)

// Loading (decode, defaults, validation) runs before every command; it
// must stay negligible next to one SSH round trip.
func BenchmarkLoadShippedInventory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Load("../../inventory.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

// hugeUnknown is a 10 MB inventory of ~870 000 unknown keys: the check must
// stay under a second and its output bounded (TestErrorsAreBounded).
func hugeUnknown() []byte {
	b := []byte("cluster:\n")
	for i := 0; len(b) < 10<<20; i++ {
		b = append(b, fmt.Sprintf("  unknown%d: v\n", i)...)
	}
	return append(b, strings.TrimPrefix(base, "cluster:\n")...)
}

func BenchmarkHugeInventoryOfUnknownKeys(b *testing.B) {
	data := hugeUnknown()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := parse("huge.yaml", data, "/inv", "/home/u"); err == nil {
			b.Fatal("accepted")
		}
	}
}

// The figure: a 50,000-deep document took the decoder 21 s to
// refuse; the pre-scan refuses it in well under a second.
func BenchmarkDeepNestingRefused(b *testing.B) {
	data := []byte(nestedDoc("flow sequences", 50000))
	for i := 0; i < b.N; i++ {
		if _, err := parse("deep.yaml", data, "/inv", "/home/u"); err == nil {
			b.Fatal("accepted")
		}
	}
}

package remote

import (
	"io/fs"
	"testing"
)

func TestUnixModeBothSpellings(t *testing.T) {
	cases := []struct {
		m    fs.FileMode
		want uint32
	}{
		{0o644, 0o644},
		{fs.ModeSetuid | 0o755, 0o4755},
		{0o4755, 0o4755}, // the Unix spelling
		{fs.ModeSetgid | fs.ModeSticky | 0o770, 0o3770},
	}
	for _, c := range cases {
		if got := UnixMode(c.m); got != c.want {
			t.Errorf("UnixMode(%v) = %04o, want %04o", c.m, got, c.want)
		}
	}
	for _, bits := range []uint32{0o644, 0o4755, 0o2750, 0o1777} {
		if got := UnixMode(ModeFromUnix(bits)); got != bits {
			t.Errorf("round trip of %04o gave %04o", bits, got)
		}
	}
}

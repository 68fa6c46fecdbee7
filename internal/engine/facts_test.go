package engine

import (
	"context"
	"os"
	"slices"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name, data string
		family     Family
		pm         PackageManager
		major      int
	}{
		{"debian 12", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n", FamilyDebian, PkgApt, 12},
		{"ubuntu 22.04", "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n", FamilyDebian, PkgApt, 22},
		{"rhel 9", "ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.3\"\n", FamilyRHEL, PkgDnf, 9},
		{"rocky 8", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.9\"\n", FamilyRHEL, PkgDnf, 8},
		{"almalinux 9", "ID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n", FamilyRHEL, PkgDnf, 9},
		{"centos 7", "ID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n", FamilyRHEL, PkgYum, 7},
		{"amazon 2", "ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\"\n", FamilyRHEL, PkgYum, 2},
		{"amazon 2023", "ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n", FamilyRHEL, PkgDnf, 2023},
		{"fedora 40", "ID=fedora\nVERSION_ID=40\n", FamilyRHEL, PkgDnf, 40},
		{"alpine unsupported", "ID=alpine\nVERSION_ID=3.19.1\n", "", "", 3},
		{"comments and single quotes", "# c\nID='debian'\n", FamilyDebian, PkgApt, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseOSRelease([]byte(tc.data))
			if f.Family != tc.family || f.PackageManager != tc.pm || f.Major != tc.major {
				t.Fatalf("got %+v, want family %q pm %q major %d", f, tc.family, tc.pm, tc.major)
			}
		})
	}
	f := ParseOSRelease([]byte("ID=rocky\nID_LIKE=\"rhel centos fedora\"\n"))
	if !slices.Equal(f.IDLike, []string{"rhel", "centos", "fedora"}) {
		t.Fatalf("IDLike = %q", f.IDLike)
	}
}

func TestNologinShellPerFamily(t *testing.T) {
	for fam, want := range map[Family]string{FamilyDebian: "/usr/sbin/nologin", FamilyRHEL: "/sbin/nologin"} {
		if got, err := (Facts{Family: fam}).NologinShell(); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", fam, got, err, want)
		}
	}
	if _, err := (Facts{ID: "alpine"}).NologinShell(); err == nil {
		t.Error("unsupported family: want an error")
	}
}

// Run gathers facts itself when a host has none; a host whose os-release
// cannot be read fails alone.
func TestRunGathersFactsOnce(t *testing.T) {
	if _, err := os.Stat(OSReleasePath); err != nil {
		t.Skip("no /etc/os-release on this machine")
	}
	h := NewHost(newLocalConn("h1"), nil)
	var seen Facts
	probe := stepFunc{title: "probe", check: func(ctx context.Context, h *Host) (*Change, error) {
		seen = h.Facts
		return nil, nil
	}}
	rc := Run(context.Background(), []*Host{h}, []Play{{Name: "p", Steps: []Step{probe}}}, Options{}, nil)
	if rc.Failed() || !seen.Gathered() {
		t.Fatalf("recap %+v, facts seen by the step %+v", rc, seen)
	}
	want := ParseOSRelease(must(os.ReadFile(OSReleasePath)))
	if seen.ID != want.ID || seen.Family != want.Family {
		t.Fatalf("facts %+v, want %+v", seen, want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The OS facts per family, pinned: an unknown family has none.
func TestOSFacts(t *testing.T) {
	deb, rhel := Facts{Family: FamilyDebian}, Facts{Family: FamilyRHEL}
	if !deb.InstallStartsServices() || rhel.InstallStartsServices() {
		t.Error("Debian's install starts services, RHEL's does not")
	}
	if (Facts{ID: "alpine"}).InstallStartsServices() {
		t.Error("an unknown family starts services")
	}
}

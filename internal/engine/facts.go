package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Family groups distributions that share package tooling and paths.
type Family string

const (
	FamilyDebian Family = "debian" // Debian, Ubuntu and derivatives
	FamilyRHEL   Family = "rhel"   // RHEL, CentOS, Rocky, Alma, Oracle, Fedora, Amazon
)

// PackageManager is the tool Package drives.
type PackageManager string

const (
	PkgApt PackageManager = "apt"
	PkgDnf PackageManager = "dnf"
	PkgYum PackageManager = "yum" // RHEL/CentOS 7 and Amazon Linux 2
)

// Facts is what a run learns about a host once, from /etc/os-release.
// Family and PackageManager stay empty on distributions we do not support;
// only the steps that need them (Package, User) fail there.
type Facts struct {
	ID             string   // "ubuntu", "rocky", ...
	IDLike         []string // "debian"; "rhel centos fedora"
	VersionID      string   // "22.04", "9.3", "7"
	Major          int      // leading number of VersionID, 0 when unknown
	Family         Family
	PackageManager PackageManager
}

// Gathered reports whether facts were filled in (by GatherFacts or a test).
func (f Facts) Gathered() bool { return f.ID != "" }

// NologinShell is the shell of system users: Debian ships it in /usr/sbin,
// RHEL in /sbin (the /usr/sbin one is only a usrmerge alias there).
func (f Facts) NologinShell() (string, error) {
	if n, ok := families[f.Family]; ok {
		return n.NologinShell, nil
	}
	return "", f.unsupported()
}

// InstallStartsServices says whether installing a package enables and
// starts the services it ships: Debian policy does (deb-systemd-helper in
// the maintainer scripts); RHEL's presets leave them disabled and stopped.
// A dry run needs it to know what the real run would find after an install.
func (f Facts) InstallStartsServices() bool { return families[f.Family].InstallStartsServices }

// supportedReleases is what clusterctl is built and tested for: the
// distributions' own IDs and the major versions with the tooling the plays
// use (dnf, systemd's enable --now, OpenJDK 17 packages). Derivatives share
// a family's commands but not its version numbers, so they are not listed.
var supportedReleases = map[string]struct{ min, max int }{
	"debian":    {11, 13},
	"ubuntu":    {20, 24},
	"rhel":      {8, 9},
	"centos":    {8, 9}, // Stream
	"rocky":     {8, 9},
	"almalinux": {8, 9},
	"ol":        {8, 9},
}

// Supported says whether the host's release is one clusterctl supports,
// and if not, why.
func (f Facts) Supported() error {
	if f.Family == "" {
		return f.unsupported()
	}
	r, ok := supportedReleases[f.ID]
	if !ok {
		return fmt.Errorf("%s %s is a %s-family distribution clusterctl is not tested on (supported: Debian 11-13, Ubuntu 20.04-24.04, RHEL/CentOS Stream/Rocky/Alma/Oracle 8-9)", f.ID, f.VersionID, f.Family)
	}
	if f.Major < r.min || f.Major > r.max {
		return fmt.Errorf("%s %q is not a supported release of %s (supported: %d to %d)", f.ID, f.VersionID, f.ID, r.min, r.max)
	}
	return nil
}

func (f Facts) unsupported() error {
	return fmt.Errorf("unsupported OS %q (ID_LIKE %q): only Debian/Ubuntu and RHEL-like hosts are supported", f.ID, strings.Join(f.IDLike, " "))
}

// ParseOSRelease reads os-release(5) content into Facts.
func ParseOSRelease(data []byte) Facts {
	var f Facts
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		val = unquoteOSRelease(val)
		switch key {
		case "ID":
			f.ID = strings.ToLower(val)
		case "ID_LIKE":
			f.IDLike = strings.Fields(strings.ToLower(val))
		case "VERSION_ID":
			f.VersionID = val
		}
	}
	major, _, _ := strings.Cut(f.VersionID, ".")
	f.Major, _ = strconv.Atoi(major)
	f.Family, f.PackageManager = classify(f)
	return f
}

// EachFamily is one Facts for each OS family and its usual package
// manager, for reads declared before a host's facts are read (the
// preflight's batch carries every family's variant; the host's own is
// served, the others cost a failed command each).
func EachFamily() []Facts {
	return []Facts{
		{ID: "debian", Family: FamilyDebian, PackageManager: PkgApt},
		{ID: "rhel", Family: FamilyRHEL, PackageManager: PkgDnf},
	}
}

func classify(f Facts) (Family, PackageManager) {
	ids := append([]string{f.ID}, f.IDLike...)
	has := func(names ...string) bool {
		for _, id := range ids {
			for _, n := range names {
				if id == n {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("debian", "ubuntu"):
		return FamilyDebian, PkgApt
	case has("rhel", "centos", "fedora"):
		switch {
		case f.ID == "fedora":
			return FamilyRHEL, PkgDnf
		case f.ID == "amzn": // Amazon Linux 2 is yum, 2023 is dnf
			if f.Major == 2 {
				return FamilyRHEL, PkgYum
			}
			return FamilyRHEL, PkgDnf
		case f.Major > 0 && f.Major <= 7:
			return FamilyRHEL, PkgYum
		}
		return FamilyRHEL, PkgDnf
	}
	return "", ""
}

// unquoteOSRelease undoes the shell-style quoting os-release allows.
func unquoteOSRelease(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		q := v[0]
		v = v[1 : len(v)-1]
		if q == '"' {
			r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`")
			v = r.Replace(v)
		}
	}
	return v
}

package engine

import "fmt"

// FamilyNames are the names that differ between Debian-like and RHEL-like
// hosts: the one table of them. Apply (the plays), verify and the
// preflight read it; the RHEL table tests pin it.
type FamilyNames struct {
	NginxUser, NginxModules                         string
	MemcachedConf, MemcachedUser, MemcachedTemplate string // MemcachedTemplate: templates/ file for MemcachedConf's format
	ChronyConf, ChronyDrift, ChronyService          string
	// DistroTomcat are the distribution's Tomcat packages: installed next
	// to ours they fight over the ports (preflight's conflicts check).
	DistroTomcat []string
	// JavaPackage is the family's default headless JDK (java.install: package).
	JavaPackage string
	// NologinShell is the shell of system users: Debian ships it in
	// /usr/sbin, RHEL in /sbin (the /usr/sbin one is only a usrmerge alias).
	NologinShell string
	// InstallStartsServices: installing a package enables and starts the
	// services it ships (Debian policy; RHEL's presets leave them off).
	InstallStartsServices bool
}

// Families is the table, by family.
var Families = map[Family]FamilyNames{
	FamilyDebian: {
		NginxUser:             "www-data",
		NginxModules:          "/etc/nginx/modules-enabled/*.conf",
		MemcachedConf:         "/etc/memcached.conf",
		MemcachedUser:         "memcache",
		MemcachedTemplate:     "memcached.conf.tmpl",
		ChronyConf:            "/etc/chrony/chrony.conf",
		ChronyDrift:           "/var/lib/chrony/chrony.drift",
		ChronyService:         "chrony",
		DistroTomcat:          []string{"tomcat9", "tomcat10", "tomcat11"},
		JavaPackage:           "default-jdk-headless",
		NologinShell:          "/usr/sbin/nologin",
		InstallStartsServices: true,
	},
	FamilyRHEL: {
		NginxUser:         "nginx",
		NginxModules:      "/usr/share/nginx/modules/*.conf",
		MemcachedConf:     "/etc/sysconfig/memcached",
		MemcachedUser:     "memcached",
		MemcachedTemplate: "memcached.sysconfig.tmpl",
		ChronyConf:        "/etc/chrony.conf",
		ChronyDrift:       "/var/lib/chrony/drift",
		ChronyService:     "chronyd",
		DistroTomcat:      []string{"tomcat"},
		JavaPackage:       "java-17-openjdk-headless",
		NologinShell:      "/sbin/nologin",
	},
}

// NamesOf is the family's row of the table.
func NamesOf(f Family) (FamilyNames, error) {
	n, ok := Families[f]
	if !ok {
		return FamilyNames{}, fmt.Errorf("unsupported OS family %q (want %q or %q)", f, FamilyDebian, FamilyRHEL)
	}
	return n, nil
}

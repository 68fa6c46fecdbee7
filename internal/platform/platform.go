// Package platform is the one table of what the cluster's software is
// called on each OS family: nginx's user and modules, memcached's config
// file, format and user, chrony's config and unit, the distribution's own
// Tomcat packages, the default JDK package. The plays render and install
// from it, verify and the preflight read it; the RHEL table tests pin it.
// What the OS itself does per family (its package manager, where nologin
// lives, whether an install starts services) stays with the engine, which
// runs the steps.
package platform

import (
	"fmt"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// Names are one family's names.
type Names struct {
	NginxUser, NginxModules                         string
	MemcachedConf, MemcachedUser, MemcachedTemplate string // MemcachedTemplate: templates/ file for MemcachedConf's format
	ChronyConf, ChronyDrift, ChronyService          string
	// DistroTomcat are the distribution's Tomcat packages: installed next
	// to ours they fight over the ports (the preflight's conflicts check).
	DistroTomcat []string
	// JavaPackage is the family's default headless JDK (java.install: package).
	JavaPackage string
}

// Families is the table, by family.
var Families = map[engine.Family]Names{
	engine.FamilyDebian: {
		NginxUser:         "www-data",
		NginxModules:      "/etc/nginx/modules-enabled/*.conf",
		MemcachedConf:     "/etc/memcached.conf",
		MemcachedUser:     "memcache",
		MemcachedTemplate: "memcached.conf.tmpl",
		ChronyConf:        "/etc/chrony/chrony.conf",
		ChronyDrift:       "/var/lib/chrony/chrony.drift",
		ChronyService:     "chrony",
		DistroTomcat:      []string{"tomcat9", "tomcat10", "tomcat11"},
		JavaPackage:       "default-jdk-headless",
	},
	engine.FamilyRHEL: {
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
	},
}

// Of is the family's row of the table.
func Of(f engine.Family) (Names, error) {
	n, ok := Families[f]
	if !ok {
		return Names{}, fmt.Errorf("unsupported OS family %q (want %q or %q)", f, engine.FamilyDebian, engine.FamilyRHEL)
	}
	return n, nil
}

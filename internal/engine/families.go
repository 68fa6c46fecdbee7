package engine

// osFacts is what the OS of each family does that the engine's own steps
// depend on. What the cluster's software is called per family is not the
// engine's: it lives in internal/platform.
type osFacts struct {
	// NologinShell is the shell of system users: Debian ships it in
	// /usr/sbin, RHEL in /sbin (the /usr/sbin one is only a usrmerge alias).
	NologinShell string
	// InstallStartsServices: installing a package enables and starts the
	// services it ships (Debian policy; RHEL's presets leave them off).
	InstallStartsServices bool
}

var families = map[Family]osFacts{
	FamilyDebian: {NologinShell: "/usr/sbin/nologin", InstallStartsServices: true},
	FamilyRHEL:   {NologinShell: "/sbin/nologin"},
}

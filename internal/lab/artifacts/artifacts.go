// Package artifacts prepares, offline, the files a user would otherwise
// download for the lab: a Tomcat 9 tarball laid out like Apache's, a JDK
// tarball, and the MSM jars (or the MSM test double when the real jars are
// absent).
package artifacts

import (
	"context"
	"errors"
)

// Manifest names what Prepare left in the artifacts directory; file names
// are relative to that directory.
type Manifest struct {
	Dir           string   // absolute artifacts directory
	TomcatVersion string   // e.g. 9.0.70
	TomcatTarball string   // apache-tomcat-9.0.70.tar.gz (+ .sha512 beside it)
	JDKTarball    string   // jdk-17-linux-x64.tar.gz
	MSMVersion    string   // 2.3.2
	MSMJars       []string // the jars that go into $CATALINA_BASE/lib
	MSMStandIn    bool     // true when MSMJars are the test double, not real MSM
}

// Prepare fills dir (creating it) and returns what is there. It is
// idempotent and cheap when everything is already in place.
func Prepare(ctx context.Context, dir string) (Manifest, error) {
	return Manifest{}, errors.New("artifacts: not built yet (work in progress)")
}

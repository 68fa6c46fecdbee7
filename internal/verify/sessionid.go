package verify

import (
	"fmt"
	"regexp"
	"strings"
)

// SessionID is an MSM sticky-mode session id: <32 hex>-<nodeId>[.<jvmRoute>].
type SessionID struct {
	Hex   string // Tomcat's random part; kept across every MSM rename
	Node  string // MSM node id the session is stored on, e.g. "n2"
	Route string // Tomcat jvmRoute, "" when the Engine has none
}

func (s SessionID) String() string {
	id := s.Hex + "-" + s.Node
	if s.Route != "" {
		id += "." + s.Route
	}
	return id
}

var (
	// Node ids and routes are \w+ (MSM splits the route off at the first
	// '.', so a dotted jvmRoute breaks it).
	msmIDRE = regexp.MustCompile(`^([0-9A-F]{32})-(\w+)(?:\.(\w+))?$`)
	// Tomcat's own id, when MSM is not in play: <hex>[.<jvmRoute>].
	tomcatIDRE = regexp.MustCompile(`^[0-9A-Fa-f]+(?:\.[\w.]+)?$`)
)

// ParseSessionID parses an MSM session id. The error says what the shape
// tells about the cluster, since a wrong id is a symptom, not the fault.
func ParseSessionID(id string) (SessionID, error) {
	if m := msmIDRE.FindStringSubmatch(id); m != nil {
		return SessionID{Hex: m[1], Node: m[2], Route: m[3]}, nil
	}
	switch {
	case id == "":
		return SessionID{}, fmt.Errorf("no session id: the application did not create a session")
	case tomcatIDRE.MatchString(id) && !strings.Contains(id, "-"):
		return SessionID{}, fmt.Errorf("session id %q has no -<nodeId> part: memcached-session-manager is not managing this Tomcat's sessions (Manager missing from context.xml or failed to start)", id)
	case strings.Count(id, ".") > 1:
		return SessionID{}, fmt.Errorf("session id %q has a jvmRoute containing '.': MSM splits on the first '.', so sessions break (MSM issue #274); use a jvmRoute matching \\w+", id)
	}
	return SessionID{}, fmt.Errorf("session id %q is not an MSM sticky id (<32 hex>-<nodeId>[.<jvmRoute>])", id)
}

package verify

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Parsers for what the hosts' own tools print. Pure, so each judgement is
// tested on recorded output.

// chronyTracking is the part of `chronyc -n tracking` the checks use.
type chronyTracking struct {
	RefID   string // hex, e.g. "0A320008"; "00000000" = no source yet
	RefName string // in parentheses after the id (an address with -n)
	Stratum int
	Leap    string // "Normal", "Not synchronised", ...
}

// Synced: chrony has a selected source and a normal leap status.
func (t chronyTracking) Synced() bool {
	return t.Leap == "Normal" && t.RefID != "00000000" && !t.Local()
}

// Local: chrony serves its own clock (`local stratum N`, reference
// 7F7F0101 = 127.127.1.1), which is how a time server without upstream
// keeps its clients in step.
func (t chronyTracking) Local() bool { return t.RefID == "7F7F0101" }

func parseChronyTracking(out string) (chronyTracking, error) {
	var t chronyTracking
	seen := 0
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Reference ID":
			id, name, _ := strings.Cut(v, " ")
			t.RefID, t.RefName = id, strings.Trim(name, "()")
			seen++
		case "Stratum":
			t.Stratum, _ = strconv.Atoi(v)
		case "Leap status":
			t.Leap = v
			seen++
		}
	}
	if seen < 2 {
		return t, fmt.Errorf("chronyc tracking printed no Reference ID / Leap status: %q", firstLine(out))
	}
	return t, nil
}

// parseListeners reads `ss -Hltn` / `ss -Hlun` lines ("LISTEN 0 1024
// 10.0.0.58:11211 0.0.0.0:*"; UDP sockets say UNCONN; possibly with a
// leading netid column) and returns the local addresses bound to port.
func parseListeners(out string, port int) []netip.AddrPort {
	var got []netip.AddrPort
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		i := slices.IndexFunc(f, func(s string) bool { return s == "LISTEN" || s == "UNCONN" })
		if i < 0 || len(f) < i+4 {
			continue
		}
		local := f[i+3]
		j := strings.LastIndexByte(local, ':')
		if j < 0 {
			continue
		}
		if p, err := strconv.Atoi(local[j+1:]); err != nil || p != port {
			continue
		}
		host := strings.Trim(local[:j], "[]")
		if k := strings.IndexByte(host, '%'); k >= 0 { // "0.0.0.0%lo", "[::1]%lo"
			host = strings.Trim(host[:k], "[]")
		}
		if host == "*" {
			host = "0.0.0.0"
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			continue
		}
		got = append(got, netip.AddrPortFrom(a.Unmap(), uint16(port)))
	}
	return got
}

// listensOn reports whether one of the listeners accepts connections to
// addr (bound to it, or to the wildcard of its family).
func listensOn(ls []netip.AddrPort, addr netip.Addr) bool {
	for _, l := range ls {
		a := l.Addr()
		if a == addr || (a.IsUnspecified() && a.Is4() == addr.Is4()) || (a == netip.IPv6Unspecified() && addr.Is4()) {
			return true
		}
	}
	return false
}

func joinAddrPorts(ls []netip.AddrPort) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.String()
	}
	return strings.Join(s, ", ")
}

// parseResolved reads lines "<name> <address>..." (our getent loop) into
// name -> addresses; a name with nothing after it did not resolve.
func parseResolved(out string) map[string][]string {
	m := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		for _, a := range f[1:] {
			if !slices.Contains(m[f[0]], a) {
				m[f[0]] = append(m[f[0]], a)
			}
		}
		if _, ok := m[f[0]]; !ok {
			m[f[0]] = nil
		}
	}
	return m
}

// msmManager is MSM's Manager element in context.xml.
type msmManager struct {
	ClassName      string `xml:"className,attr"`
	MemcachedNodes string `xml:"memcachedNodes,attr"`
	FailoverNodes  string `xml:"failoverNodes,attr"`
	Sticky         string `xml:"sticky,attr"`
}

const msmManagerClass = "de.javakaffee.web.msm.MemcachedBackupSessionManager"

// parseContextManager finds MSM's Manager in a context.xml.
func parseContextManager(data []byte) (msmManager, error) {
	var ctx struct {
		XMLName  xml.Name     `xml:"Context"`
		Managers []msmManager `xml:"Manager"`
	}
	if err := xml.Unmarshal(data, &ctx); err != nil {
		return msmManager{}, fmt.Errorf("not valid XML: %v", err)
	}
	for _, m := range ctx.Managers {
		if m.ClassName == msmManagerClass {
			return m, nil
		}
	}
	return msmManager{}, fmt.Errorf("no <Manager className=%q>", msmManagerClass)
}

// nodeSet splits MSM's memcachedNodes / failoverNodes lists (comma or
// space separated, as MSM accepts) into a sorted set.
func nodeSet(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	slices.Sort(f)
	return slices.Compact(f)
}

// msmStart is what Tomcat's log says about MSM's start.
type msmStart struct {
	Started     bool
	NodeIDs     []string // primary (non-failover) node ids
	FailoverIDs []string
	StandIn     bool   // the lab's test double, not real MSM
	Failure     string // the last SEVERE line about MSM or its context since the last start line
}

var (
	// Real MSM 2.3.x logs, at the end of startInternal, a block with
	// "MemcachedSessionService finished initialization:", "- node ids: [n2]"
	// and "- failover node ids: [n1]"; the lab's stand-in one line
	// "clusterctl MSM test double started: sticky, node ids [n2], failover node ids [n1], ...".
	msmStartRE    = regexp.MustCompile(`finished initialization|MSM test double started`)
	msmNodeIDsRE  = regexp.MustCompile(`(?:^|[-,]\s*)node ids:? \[([^\]]*)\]`)
	msmFailIDsRE  = regexp.MustCompile(`failover node ids:? \[([^\]]*)\]`)
	msmFailureRE  = regexp.MustCompile(`(?i)(SEVERE|ERROR).*(memcached|msm|javakaffee|Context \[[^\]]*\] startup failed|NoSuchMethodError|NoSuchFieldError|ClassNotFoundException)|(ClassNotFoundException|NoClassDefFoundError|NoSuchMethodError|NoSuchFieldError).*(javakaffee|spy)`)
	bracketListRE = regexp.MustCompile(`\s*,\s*`)
)

// parseMSMLog scans a Tomcat log (oldest first) for MSM's start.
func parseMSMLog(log string) msmStart {
	var s msmStart
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		switch {
		case msmStartRE.MatchString(l):
			s = msmStart{Started: true, StandIn: strings.Contains(l, "test double")}
			// Real MSM spreads the details over the next lines.
			block := strings.Join(lines[i:min(i+8, len(lines))], "\n")
			if m := msmFailIDsRE.FindStringSubmatch(block); m != nil {
				s.FailoverIDs = splitList(m[1])
			}
			if m := msmNodeIDsRE.FindStringSubmatch(block); m != nil {
				s.NodeIDs = splitList(m[1])
			}
		case msmFailureRE.MatchString(l):
			s.Failure = strings.TrimSpace(l)
		}
	}
	return s
}

func splitList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	f := bracketListRE.Split(s, -1)
	slices.Sort(f)
	return f
}

package verify

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

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

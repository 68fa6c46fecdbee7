package verify

import (
	"context"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

func (r *run) checkEtcHosts(ctx context.Context, c remote.Conn) (Status, string) {
	names, want, cmd := r.etcHostsLookup()
	res, err := r.read(ctx, c, cmd)
	if err != nil {
		return fail("%v", err)
	}
	return judgeEtcHosts(names, want, parseResolved(res.Stdout))
}

// etcHostsLookup is every cluster name, the address each must resolve to,
// and the command that resolves them all.
func (r *run) etcHostsLookup() (names []string, want map[string]string, cmd string) {
	want = map[string]string{}
	for _, h := range r.inv.AllHosts() {
		for _, n := range []string{h.FQDN, h.Name} {
			if n != "" && want[n] == "" {
				names = append(names, n)
				want[n] = h.Address
			}
		}
	}
	var b strings.Builder
	b.WriteString("for n in")
	for _, n := range names {
		b.WriteString(" " + shellQuote(n))
	}
	// One line per name: the name, then every address it resolves to.
	b.WriteString(`; do printf '%s' "$n"; getent ahosts "$n" | while read -r a _; do printf ' %s' "$a"; done; echo; done`)
	return names, want, b.String()
}

func judgeEtcHosts(names []string, want map[string]string, got map[string][]string) (Status, string) {
	var bad []string
	for _, n := range names {
		addrs := got[n]
		switch {
		case len(addrs) == 0:
			bad = append(bad, n+" does not resolve")
		case !slices.Contains(addrs, want[n]):
			bad = append(bad, n+" resolves to "+strings.Join(addrs, " ")+", not "+want[n])
		}
	}
	if len(bad) > 0 {
		return fail("%s (the cluster block in /etc/hosts; clusterctl apply writes it)", strings.Join(bad, "; "))
	}
	return ok("all %d cluster names resolve to their inventory addresses", len(names))
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

package verify

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/platform"
	"github.com/clusterctl/clusterctl/internal/remote"
)

func (r *run) checkHostname(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	res, err := r.cmd(ctx, c, "hostname")
	if err != nil {
		return fail("%v", err)
	}
	got := strings.TrimSpace(res.Stdout)
	if got != h.FQDN {
		return fail("host name is %q, want %q (hostnamectl set-hostname %s; clusterctl apply sets it)", got, h.FQDN, h.FQDN)
	}
	return ok("%s", got)
}

func (r *run) checkTimezone(ctx context.Context, c remote.Conn) (Status, string) {
	want := r.inv.Cluster.Timezone
	if want == "" {
		return skip("no cluster.timezone in the inventory")
	}
	// timedatectl needs systemd-timedated; /etc/localtime is what libc reads.
	res, err := r.cmd(ctx, c, "timedatectl show -p Timezone --value 2>/dev/null || readlink /etc/localtime")
	if err != nil {
		return fail("%v", err)
	}
	got := normaliseZone(strings.TrimSpace(res.Stdout))
	if got != want {
		return fail("timezone is %q, want %q (timedatectl set-timezone %s; clusterctl apply sets it)", got, want, want)
	}
	return ok("%s", got)
}

// normaliseZone turns a /etc/localtime link target into a zone name.
func normaliseZone(s string) string {
	if i := strings.Index(s, "zoneinfo/"); i >= 0 {
		s = s[i+len("zoneinfo/"):]
	}
	if s == "Etc/UTC" {
		return "UTC"
	}
	return s
}

// servesTime reports whether another host takes its time from h.
var chronyUnits = func() string {
	var units []string
	for _, f := range []engine.Family{engine.FamilyDebian, engine.FamilyRHEL} {
		units = append(units, platform.Families[f].ChronyService+".service")
	}
	return strings.Join(units, " ")
}()

func (r *run) servesTime(h inventory.Host) bool { return len(r.inv.TimeClients(h)) > 0 }

func (r *run) checkTimeSync(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	serves := r.servesTime(h)
	if len(h.EffectiveNTPServers()) == 0 && !serves {
		return skip("no ntp_servers in the inventory: time synchronisation left alone")
	}
	// chrony's unit of every family (platform.Families: chrony, chronyd);
	// verify does not need the host's family to ask for both.
	res, err := r.cmd(ctx, c, "systemctl is-active "+chronyUnits)
	if err != nil {
		return fail("%v", err)
	}
	active := slices.Contains(strings.Fields(res.Stdout), "active")
	var tr chronyTracking
	var trErr error
	deadline := time.Now().Add(r.timing.ChronySync)
	for {
		tr, trErr = r.chronyTracking(ctx, c)
		// A chrony started moments ago (right after apply) needs a few
		// polls (iburst) to select its source; give it that long.
		if !active || serves || (trErr == nil && tr.Synced()) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		sleep(ctx, time.Second)
	}
	var listening bool
	if serves {
		res, err := r.cmd(ctx, c, "ss -Hlun")
		if err != nil {
			return fail("%v", err)
		}
		addr, _ := netip.ParseAddr(h.Address)
		listening = listensOn(parseListeners(res.Stdout, 123), addr)
	}
	return judgeTimeSync(active, tr, trErr, serves, listening)
}

func (r *run) chronyTracking(ctx context.Context, c remote.Conn) (chronyTracking, error) {
	res, err := r.cmd(ctx, c, "chronyc -n tracking")
	if err != nil {
		return chronyTracking{}, err
	}
	if !res.OK() {
		return chronyTracking{}, res.ExitError("chronyc tracking")
	}
	return parseChronyTracking(res.Stdout)
}

// judgeTimeSync: a client must be synchronised; the host others take their
// time from must serve it (on udp/123, from an upstream or its own clock).
func judgeTimeSync(active bool, tr chronyTracking, trErr error, serves, listening bool) (Status, string) {
	switch {
	case !active:
		return fail("chrony is not running (systemctl start chrony; clusterctl apply installs and starts it)")
	case trErr != nil:
		return fail("chrony runs but does not answer: %v", trErr)
	case serves && !listening:
		return fail("other hosts take their time from this one, but chronyd does not listen on udp/123 here (allow lines in chrony.conf)")
	case serves && tr.Synced():
		return ok("serving time on udp/123, synchronised to %s (stratum %d)", tr.RefName, tr.Stratum)
	case serves && tr.Local():
		return ok("serving time on udp/123 from its own clock (local stratum %d)", tr.Stratum)
	case serves:
		return fail("serves udp/123 but has no time to give: no source selected and no 'local stratum' fallback (leap status %s)", tr.Leap)
	case !tr.Synced():
		return fail("chrony is not synchronised (leap status %q, reference %s): check `chronyc -n sources` and that the ntp_servers answer", tr.Leap, tr.RefID)
	}
	return ok("synchronised to %s (stratum %d)", tr.RefName, tr.Stratum)
}

func (r *run) checkEtcHosts(ctx context.Context, c remote.Conn) (Status, string) {
	var names []string
	want := map[string]string{}
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
	res, err := r.cmd(ctx, c, b.String())
	if err != nil {
		return fail("%v", err)
	}
	return judgeEtcHosts(names, want, parseResolved(res.Stdout))
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

// checkActive: `systemctl is-active` prints the state even when it fails.
func (r *run) checkActive(ctx context.Context, c remote.Conn, unit string) (Status, string) {
	res, err := r.cmd(ctx, c, "systemctl is-active "+shellQuote(unit))
	if err != nil {
		return fail("%v", err)
	}
	state := strings.TrimSpace(res.Stdout)
	if state == "active" {
		return ok("active")
	}
	if state == "" {
		state = remote.LastLine(res.Stderr)
	}
	return fail("%s is %s (systemctl start %s; see journalctl -u %s)", unit, state, unit, unit)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

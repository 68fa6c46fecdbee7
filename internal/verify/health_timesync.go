package verify

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/platform"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// chronyUnits are chrony's units of every family, for one systemctl call.
var chronyUnits = func() string {
	var units []string
	for _, f := range []engine.Family{engine.FamilyDebian, engine.FamilyRHEL} {
		units = append(units, platform.Families[f].ChronyService+".service")
	}
	return strings.Join(units, " ")
}()

// servesTime reports whether another host takes its time from h.
func (r *run) servesTime(h inventory.Host) bool { return len(r.inv.TimeClients(h)) > 0 }

var chronyActiveCmd = "systemctl is-active " + chronyUnits

const (
	chronyTrackingCmd = "chronyc -n tracking"
	udpListenersCmd   = "ss -Hlun"
)

// timeSyncProbes are the reads checkTimeSync starts with.
func (r *run) timeSyncProbes(h inventory.Host) []string {
	cmds := []string{chronyActiveCmd, chronyTrackingCmd}
	if r.servesTime(h) {
		cmds = append(cmds, udpListenersCmd)
	}
	return cmds
}

func (r *run) checkTimeSync(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	serves := r.servesTime(h)
	if len(h.EffectiveNTPServers()) == 0 && !serves {
		return skip("no ntp_servers in the inventory: time synchronisation left alone")
	}
	// chrony's unit of every family (platform.Families: chrony, chronyd);
	// verify does not need the host's family to ask for both.
	res, err := r.read(ctx, c, chronyActiveCmd)
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
		res, err := r.read(ctx, c, udpListenersCmd)
		if err != nil {
			return fail("%v", err)
		}
		addr, _ := netip.ParseAddr(h.Address)
		listening = listensOn(parseListeners(res.Stdout, 123), addr)
	}
	return judgeTimeSync(active, tr, trErr, serves, listening)
}

func (r *run) chronyTracking(ctx context.Context, c remote.Conn) (chronyTracking, error) {
	res, err := r.read(ctx, c, chronyTrackingCmd)
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

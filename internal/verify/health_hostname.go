package verify

import (
	"context"
	"strings"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// The hosts' names and zones; timedatectl needs systemd-timedated,
// /etc/localtime is what libc reads.
const (
	hostnameCmd = "hostname"
	timezoneCmd = "timedatectl show -p Timezone --value 2>/dev/null || readlink /etc/localtime"
)

func (r *run) checkHostname(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	res, err := r.read(ctx, c, hostnameCmd)
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
	res, err := r.read(ctx, c, timezoneCmd)
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

package engine

import (
	"context"
	"fmt"
	"strings"
)

// EtcHostname is the static hostname file hostnamectl writes.
const EtcHostname = "/etc/hostname"

// Hostname sets the static and the running hostname with hostnamectl (as
// the seed's `hostnamectl set-hostname t58.shone.cn`), recording the
// previous running hostname and /etc/hostname for teardown.
type Hostname struct {
	Name  string
	Label string // title override; default "hostname <Name>"
	// File is the static hostname file; "" means EtcHostname. Tests point
	// it into a temp dir.
	File string
}

func (n Hostname) Title() string {
	if n.Label != "" {
		return n.Label
	}
	return "hostname " + n.Name
}

func (n Hostname) path() string {
	if n.File != "" {
		return n.File
	}
	return EtcHostname
}

func (n Hostname) queryCmd() string {
	f := Quote(n.path())
	return fmt.Sprintf(`hostname; if [ -f %s ]; then echo present; head -n 1 %s; else echo absent; fi`, f, f)
}

func (n Hostname) Probes(*Host) []string { return []string{n.queryCmd()} }

func (n Hostname) Check(ctx context.Context, h *Host) (*Change, error) {
	if n.Name == "" {
		return nil, fmt.Errorf("hostname: empty name")
	}
	// One round trip: the running name, then whether the file exists and
	// its first line.
	res, err := h.run(ctx, "read hostname", n.queryCmd())
	if err != nil {
		return nil, err
	}
	// Missing lines read as "no name, no file": what a host that has
	// neither looks like, and never mistaken for the wanted state.
	lines := append(strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n"), "", "", "")
	running, present, static := strings.TrimSpace(lines[0]), lines[1] == "present", ""
	if present {
		static = strings.TrimSpace(lines[2])
	}
	if running == n.Name && present && static == n.Name {
		return nil, nil
	}
	summary := fmt.Sprintf("set hostname %s (was %s)", n.Name, running)
	if running == n.Name {
		summary = fmt.Sprintf("write %s (was %q)", n.path(), static)
	}
	// Undone in reverse: first /etc/hostname goes back, then the running
	// name (hostnamectl ignores a transient name while a static one is set).
	recs := []Record{
		{Kind: RecordHostname, Previous: running},
		fileRecord(n.path(), present, []byte(n.Name+"\n")),
	}
	cmd := "hostnamectl set-hostname " + Quote(n.Name)
	return &Change{
		Summary: summary,
		Records: recs,
		Apply: func(ctx context.Context) error {
			_, err := h.run(ctx, "set hostname", cmd)
			return err
		},
	}, nil
}

// Timezone sets the system timezone with timedatectl (as the seed does),
// recording the previous one for teardown.
type Timezone struct {
	Name  string // e.g. "Asia/Shanghai"
	Label string // title override; default "timezone <Name>"
	// Localtime is the zone link timedatectl maintains; "" means
	// EtcLocaltime. Tests point it elsewhere.
	Localtime string
}

// EtcLocaltime is the symlink into the zoneinfo database that names the
// system timezone.
const EtcLocaltime = "/etc/localtime"

// readTimezoneCmd reads the zone from the /etc/localtime link, as
// timedatectl itself does, and asks timedatectl only when there is no such
// link: `timedatectl show` wakes systemd-timedated over D-Bus, which cost
// ~0.5 s of every no-op apply.
func readTimezoneCmd(localtime string) string {
	return fmt.Sprintf(`l=$(readlink %s 2>/dev/null) && case "$l" in */zoneinfo/*) echo "${l#*/zoneinfo/}"; exit 0;; esac; timedatectl show -p Timezone --value`, Quote(localtime))
}

func (t Timezone) Title() string {
	if t.Label != "" {
		return t.Label
	}
	return "timezone " + t.Name
}

func (t Timezone) localtime() string {
	if t.Localtime == "" {
		return EtcLocaltime
	}
	return t.Localtime
}

func (t Timezone) Probes(*Host) []string { return []string{readTimezoneCmd(t.localtime())} }

func (t Timezone) Check(ctx context.Context, h *Host) (*Change, error) {
	if t.Name == "" {
		return nil, fmt.Errorf("timezone: empty name")
	}
	res, err := h.run(ctx, "read timezone", readTimezoneCmd(t.localtime()))
	if err != nil {
		return nil, err
	}
	cur := strings.TrimSpace(res.Stdout)
	if cur == t.Name {
		return nil, nil
	}
	cmd := "timedatectl set-timezone " + Quote(t.Name)
	return &Change{
		Summary: fmt.Sprintf("set timezone %s (was %s)", t.Name, cur),
		Records: []Record{{Kind: RecordTimezone, Previous: cur}},
		Apply: func(ctx context.Context) error {
			_, err := h.run(ctx, "set timezone", cmd)
			return err
		},
	}, nil
}

package teardown

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// run runs cmd and turns a non-zero exit into an error named by what.
func run(ctx context.Context, h *engine.Host, what, cmd string) (string, error) {
	res, err := h.Conn.Run(ctx, cmd)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return res.Stdout, res.ExitError(what)
}

// pathState is what probeCmd found at a path (a final symlink not followed).
type pathState struct {
	Type   string // "absent", "link", "dir", "file" or "other"
	Target string // link
	SHA256 string // file
	Meta   string // dir and file: "<octal mode> <owner> <group>"
}

// probeCmd prints one line per path: "absent", "link <target>",
// "dir <mode> <owner> <group>", "file <sha256> <mode> <owner> <group>" or
// "other".
func probeCmd(paths ...string) string {
	var cmds []string
	for _, p := range paths {
		q := engine.Quote(p)
		cmds = append(cmds, fmt.Sprintf(`if [ -L %[1]s ]; then printf 'link %%s\n' "$(readlink %[1]s)"; `+
			`elif [ -d %[1]s ]; then echo "dir $(stat -c '%%a %%U %%G' %[1]s)"; `+
			`elif [ -f %[1]s ]; then echo "file $(sha256sum < %[1]s | cut -d' ' -f1) $(stat -c '%%a %%U %%G' %[1]s)"; `+
			`elif [ -e %[1]s ]; then echo other; else echo absent; fi`, q))
	}
	return strings.Join(cmds, "; ")
}

func probe(ctx context.Context, h *engine.Host, paths ...string) ([]pathState, error) {
	out, err := run(ctx, h, "inspect "+strings.Join(paths, " "), probeCmd(paths...))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(paths) {
		return nil, fmt.Errorf("inspect %s: unexpected output %q", strings.Join(paths, " "), out)
	}
	states := make([]pathState, len(paths))
	for i, l := range lines {
		kind, rest, _ := strings.Cut(l, " ")
		s := pathState{Type: kind}
		switch kind {
		case "link":
			s.Target = rest
		case "dir":
			s.Meta = rest
		case "file":
			s.SHA256, s.Meta, _ = strings.Cut(rest, " ")
		}
		states[i] = s
	}
	return states, nil
}

// removable guards rm -rf: apply can never have created these, so a record
// naming one is corrupt and must not be obeyed.
func removable(p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("refusing to remove %q: not a clean absolute path", p)
	}
	switch p {
	case "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run",
		"/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/usr/sbin", "/usr/share",
		"/var", "/var/lib", "/var/log":
		return fmt.Errorf("refusing to remove %s", p)
	}
	return nil
}

// isUnitPath: removing or restoring such a file needs a daemon-reload.
func isUnitPath(p string) bool {
	for _, d := range []string{"/etc/systemd/", "/lib/systemd/", "/usr/lib/systemd/", "/run/systemd/"} {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}

package sshsettings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// sshConfig is one parsed ssh_config(5) file and what of it clusterctl
// cannot honour. Parsing is ssh_config's (kevinburke/ssh_config); this
// file only decides which blocks apply to a host and where a value was
// written, for the dry run's "from ~/.ssh/config:12".
type sshConfig struct {
	path  string // as given, for messages (~ shortened)
	cfg   *ssh_config.Config
	notes []string // Match blocks not applied, for the warnings
}

// matchRE finds a Match line; what follows is its criteria.
var matchRE = regexp.MustCompile(`(?i)^(\s*)match(\s*=\s*|\s+)(.*)$`)

// matchKeywords are ssh_config(5)'s Match criteria. The parser evaluates
// `Match host` and `Match all` only; a line with any other criterion (exec
// runs a command, user and localnetwork need facts we do not gather) is
// turned into a block that matches nothing and named in a warning: its
// settings are not applied, and the operator is told so.
var matchKeywords = map[string]bool{
	"all": true, "canonical": true, "final": true, "exec": true, "localnetwork": true,
	"host": true, "originalhost": true, "tagged": true, "user": true, "localuser": true,
}

// readSSHConfig parses path; a missing file is no configuration.
func readSSHConfig(path string) (*sshConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("read %s: %w", tildify(path), err)
	}
	sc := &sshConfig{path: tildify(path)}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		m := matchRE.FindStringSubmatch(strings.TrimRight(l, "\r"))
		if m == nil || supportedMatch(m[3]) {
			continue
		}
		sc.notes = append(sc.notes, fmt.Sprintf("%s:%d: `Match %s` is not evaluated by clusterctl; the settings of that block are applied to no host",
			sc.path, i+1, strings.TrimSpace(stripComment(m[3]))))
		lines[i] = m[1] + "Host !*" // a block that matches nothing, keeping line numbers
	}
	cfg, err := ssh_config.DecodeBytes([]byte(strings.Join(lines, "\n")))
	if err != nil {
		return nil, fmt.Errorf("%s: %s (set ssh.config: none in the inventory to read no ssh_config)",
			sc.path, strings.TrimPrefix(err.Error(), "ssh_config: "))
	}
	sc.cfg = cfg
	return sc, nil
}

// supportedMatch reports whether criteria are only `all`, or `host` and its
// patterns, which the parser evaluates as ssh(1) does.
func supportedMatch(criteria string) bool {
	f := strings.Fields(stripComment(criteria))
	if len(f) == 0 {
		return false
	}
	switch strings.ToLower(f[0]) {
	case "all":
		return len(f) == 1
	case "host":
		for _, w := range f[1:] {
			if matchKeywords[strings.ToLower(w)] {
				return false
			}
		}
		return len(f) > 1
	}
	return false
}

func stripComment(s string) string {
	if i := strings.Index(s, "#"); i >= 0 {
		return s[:i]
	}
	return s
}

// value is a setting found in the file, and where.
type value struct {
	v   string
	src string // "~/.ssh/config:12"
}

// applies reports whether block h applies to a host known by any of
// aliases (its inventory name, then its address): ssh(1) matches the name
// given on its command line, and operators write Host blocks for either.
// A block that negates any alias (`Host * !t58`) never applies.
func applies(h *ssh_config.Host, aliases []string) bool {
	found := false
	for _, p := range h.Patterns {
		neg := strings.HasPrefix(p.String(), "!")
		for _, a := range aliases {
			if a == "" {
				continue
			}
			if neg {
				if pos, err := ssh_config.NewPattern(strings.TrimPrefix(p.String(), "!")); err == nil && (&ssh_config.Host{Patterns: []*ssh_config.Pattern{pos}}).Matches(a) {
					return false
				}
				continue
			}
			if (&ssh_config.Host{Patterns: []*ssh_config.Pattern{p}}).Matches(a) {
				found = true
			}
		}
	}
	return found
}

// get is the first value of key in the blocks that apply, as ssh(1) takes
// the first value it obtains; all is every value (IdentityFile adds up).
func (sc *sshConfig) get(aliases []string, key string) (first value, all []value) {
	if sc == nil {
		return value{}, nil
	}
	for _, h := range sc.cfg.Hosts {
		if !applies(h, aliases) {
			continue
		}
		for _, n := range h.Nodes {
			switch t := n.(type) {
			case *ssh_config.KV:
				if strings.EqualFold(t.Key, key) {
					all = append(all, value{unquote(t.Value), fmt.Sprintf("%s:%d", sc.path, t.Pos().Line)})
				}
			case *ssh_config.Include:
				for _, a := range aliases {
					vs, _ := t.GetAll(a, key)
					for _, v := range vs {
						all = append(all, value{v, fmt.Sprintf("a file included at %s:%d", sc.path, t.Pos().Line)})
					}
					if len(vs) > 0 {
						break
					}
				}
			}
		}
	}
	if len(all) > 0 {
		first = all[0]
	}
	return first, all
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// unsupported are directives that change how ssh(1) would connect and that
// clusterctl does not honour, with what to do instead. Ignoring one
// silently could send a run to a different machine or with a different
// trust than the operator's own ssh; each is named in a warning.
var unsupported = []struct{ key, instead string }{
	{"ProxyCommand", "use ProxyJump or the inventory's ssh.bastion"},
	{"CertificateFile", "clusterctl logs in with keys, not certificates"},
	{"HostKeyAlias", "host keys are looked up by address"},
	{"IdentityAgent", "clusterctl uses $SSH_AUTH_SOCK"},
	{"PKCS11Provider", "clusterctl reads key files and the agent only"},
	{"KnownHostsCommand", "name the file in ssh.known_hosts"},
	{"StrictHostKeyChecking", "clusterctl always checks host keys; --accept-new-host-keys records new ones"},
}

// warnings names the unsupported directives that apply to a host.
func (sc *sshConfig) warnings(host string, aliases []string) []string {
	var out []string
	for _, u := range unsupported {
		v, _ := sc.get(aliases, u.key)
		if u.key == "StrictHostKeyChecking" && (strings.EqualFold(v.v, "yes") || strings.EqualFold(v.v, "ask")) {
			continue // what clusterctl does anyway
		}
		if v.src != "" {
			out = append(out, fmt.Sprintf("%s: %s for %s is not supported and not applied (%s)", v.src, u.key, host, u.instead))
		}
	}
	return out
}

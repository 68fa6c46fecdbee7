package playbooks

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
)

// Some settings cannot change on a live cluster without users noticing,
// however the restarts roll: nginx is reloaded onto a new Tomcat port
// before each Tomcat restarts onto it, a Tomcat restarted with a new
// memcached port or session key prefix cannot take over the sessions the
// others keep under the old ones. The values a cluster last finished
// rolling with are kept on each host, so apply can tell such a change
// before it touches anything and ask for it to be meant (--disruptive).
const liveSettingsFile = "/var/lib/clusterctl/live-settings"

type liveSetting struct {
	key, value, why string
}

func (c *Cluster) liveSettings(h inventory.Host) []liveSetting {
	inv := c.Inv
	var s []liveSetting
	if h.Has(inventory.RoleProxy) {
		s = append(s, liveSetting{"nginx.listen", strconv.Itoa(inv.Nginx.Listen), "users reach the site on the new port only"})
	}
	if h.Has(inventory.RoleTomcat) {
		s = append(s,
			liveSetting{"tomcat.port", strconv.Itoa(inv.Tomcat.Port), "nginx sends to the new port before each Tomcat restarts onto it: requests fail in between"},
			liveSetting{"msm.storage_key_prefix", inv.MSM.StorageKeyPrefix, "a Tomcat restarted with the new prefix cannot take over the sessions the others keep under the old one"})
	}
	if h.Has(inventory.RoleMemcached) || h.Has(inventory.RoleTomcat) {
		s = append(s, liveSetting{"memcached.port", strconv.Itoa(inv.Memcached.Port), "until its Tomcat restarts, MSM backs sessions up to the old port, where no memcached listens"})
	}
	return s
}

func renderLiveSettings(s []liveSetting) []byte {
	var b strings.Builder
	b.WriteString("# clusterctl: the settings this host last finished a rollout with\n")
	for _, x := range s {
		fmt.Fprintf(&b, "%s=%s\n", x.key, x.value)
	}
	return []byte(b.String())
}

// LiveSettingsStep records the host's live settings; run after a rollout
// finished (or a converge that needed none), never before.
func (c *Cluster) LiveSettingsStep() engine.Step {
	return perHost("record live settings", func(h *engine.Host) engine.Step {
		return engine.File{Path: liveSettingsFile, Content: renderLiveSettings(c.liveSettings(c.host(h))), Label: "record live settings"}
	})
}

// DisruptiveChanges lists, for hosts that have run a cluster before, the
// settings the inventory changes that no rollout can change unnoticed.
// A host without the record (never applied, or by an older clusterctl)
// has nothing to compare.
func (c *Cluster) DisruptiveChanges(ctx context.Context, hosts []*engine.Host) ([]string, error) {
	var out []string
	for _, h := range hosts {
		if h.Unreachable() != nil {
			continue
		}
		was, ok, err := ReadLiveSettings(ctx, h)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for _, s := range c.liveSettings(c.host(h)) {
			if old, known := was[s.key]; known && old != s.value {
				out = append(out, fmt.Sprintf("%s: %s %q -> %q: %s", h.Name(), s.key, old, s.value, s.why))
			}
		}
	}
	return out, nil
}

// LiveSettingsProbe is ReadLiveSettings' read, for a batch.
func LiveSettingsProbe() string { return engine.ReadProbe(liveSettingsFile) }

// ReadLiveSettings reads the settings h last finished a rollout with
// ("tomcat.port" -> "8080"); ok is false where none are recorded.
func ReadLiveSettings(ctx context.Context, h *engine.Host) (map[string]string, bool, error) {
	data, ok, err := h.ReadFile(ctx, liveSettingsFile)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("%s: read %s: %w", h.Name(), liveSettingsFile, err)
		}
		return nil, false, err
	}
	was := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			was[k] = v
		}
	}
	return was, true, nil
}

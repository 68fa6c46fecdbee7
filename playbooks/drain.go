package playbooks

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/topology"
)

// A drained Tomcat is marked `down` in every upstream of nginx.conf on every
// proxy, so nginx sends it neither new nor sticky requests (a sticky
// session's own upstream falls back to its backups, whose Tomcat loads the
// session from memcached). Which Tomcats are drained is state on the proxy,
// one marker file per Tomcat: the nginx play renders nginx.conf from the
// same markers, so a re-apply in the middle of a rollout never undrains a
// Tomcat that is not ready, and the next rollout finds what the last one
// left drained.
var drainedDir = path.Join(engine.DefaultStateDir, "drained")

// nginxPIDFile is nginx.conf.tmpl's pid directive: the master whose workers
// a drain waits for.
const nginxPIDFile = "/run/nginx.pid"

// DrainedTomcats reads the Tomcats drained on a proxy.
func DrainedTomcats(ctx context.Context, h *engine.Host) (map[string]bool, error) {
	res, err := h.Conn.Run(ctx, "ls -1 "+engine.Quote(drainedDir)+" 2>/dev/null || true")
	if err != nil {
		return nil, fmt.Errorf("read drained tomcats: %w", err)
	}
	out := map[string]bool{}
	for _, n := range strings.Fields(res.Stdout) {
		out[n] = true
	}
	return out, nil
}

// nginxConfStep is nginx.conf for a proxy, with its drained Tomcats down.
type nginxConfStep struct{ c *Cluster }

const nginxConfTitle = "file " + nginxConfPath

func (s nginxConfStep) Title() string { return nginxConfTitle }

func (s nginxConfStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	drained, err := DrainedTomcats(ctx, h)
	if err != nil {
		return nil, err
	}
	f, err := s.c.nginxFile(h, drained)
	if err != nil {
		return nil, err
	}
	return f.Check(ctx, h)
}

func (c *Cluster) nginxFile(h *engine.Host, drained map[string]bool) (engine.File, error) {
	t := c.target(h)
	t.Drained = drained
	p, err := t.Paths()
	if err != nil {
		return engine.File{}, err
	}
	content, err := t.NginxConf()
	if err != nil {
		return engine.File{}, err
	}
	return engine.File{Path: p.NginxConf, Content: content, Validate: nginxValidate, Label: nginxConfTitle}, nil
}

// DrainStep, on a proxy, drains (drain) or undrains one Tomcat: the marker,
// nginx.conf, `nginx -t`, a graceful reload. A drain then waits, bounded by
// wait, until every nginx worker that was running before the reload has
// exited: those are the only ones that may still hold requests to the
// Tomcat, and they exit once their requests are done.
func (c *Cluster) DrainStep(tomcat string, drain bool, wait time.Duration) engine.Step {
	return drainStep{c: c, tomcat: tomcat, drain: drain, wait: wait}
}

type drainStep struct {
	c      *Cluster
	tomcat string
	drain  bool
	wait   time.Duration
}

func (s drainStep) Title() string {
	if s.drain {
		return "drain " + s.tomcat
	}
	return "undrain " + s.tomcat
}

func (s drainStep) Check(ctx context.Context, h *engine.Host) (*engine.Change, error) {
	drained, err := DrainedTomcats(ctx, h)
	if err != nil {
		return nil, err
	}
	markerOK := drained[s.tomcat] == s.drain
	if s.drain {
		drained[s.tomcat] = true
	} else {
		delete(drained, s.tomcat)
	}
	f, err := s.c.nginxFile(h, drained)
	if err != nil {
		return nil, err
	}
	fc, err := f.Check(ctx, h)
	if err != nil || (fc == nil && markerOK) {
		return fc, err
	}
	marker := engine.Quote(path.Join(drainedDir, s.tomcat))
	markCmd := "rm -f " + marker + " && { rmdir " + engine.Quote(drainedDir) + " 2>/dev/null || true; }"
	if s.drain {
		markCmd = "mkdir -p " + engine.Quote(drainedDir) + " && : > " + marker
	}
	what := "marked down in every upstream, graceful reload, in-flight requests finished"
	if !s.drain {
		what = "back in every upstream, graceful reload"
	}
	ch := &engine.Change{Summary: s.tomcat + " " + what}
	if fc != nil {
		ch.Diff, ch.Records = fc.Diff, fc.Records
	}
	ch.Apply = func(ctx context.Context) error {
		// The marker first: it is what the nginx play renders from, so a run
		// stopped between the two still converges to the same file.
		if res, err := h.Conn.Run(ctx, markCmd); err != nil || !res.OK() {
			return fmt.Errorf("%s: marker: %v%s", s.Title(), err, res.Stderr)
		}
		if fc != nil {
			if err := fc.Apply(ctx); err != nil {
				return err
			}
		}
		res, err := h.Conn.Run(ctx, reloadAndWaitCmd(s.drain, s.wait))
		if err != nil {
			return fmt.Errorf("%s: %w", s.Title(), err)
		}
		switch res.ExitCode {
		case 0:
			return nil
		case 3:
			return fmt.Errorf("%s: requests still in flight after %s (nginx workers %s did not exit); "+
				"the Tomcat stays drained: raise rollout.drain_timeout or find the long request", s.Title(), s.wait, strings.TrimSpace(res.Stdout))
		default:
			return res.ExitError(s.Title() + ": reload nginx")
		}
	}
	return ch, nil
}

// reloadAndWaitCmd reloads nginx gracefully and, for a drain, waits until
// the workers from before the reload are gone (exit 3 and their PIDs after
// wait). The PIDs are read before the reload, so a reload that nginx has
// not acted on yet cannot look like a finished drain.
func reloadAndWaitCmd(wait bool, timeout time.Duration) string {
	reload := "systemctl reload nginx"
	if !wait {
		return reload
	}
	tenths := int(timeout / (100 * time.Millisecond))
	return fmt.Sprintf(`old=$(pgrep -P "$(cat %s 2>/dev/null)" 2>/dev/null | tr '\n' ' ')
%s || exit 1
i=0
while :; do
  left=; for p in $old; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
  [ -z "$left" ] && exit 0
  i=$((i+1)); [ $i -gt %d ] && { echo "$left"; exit 3; }
  sleep 0.1
done`, nginxPIDFile, reload, tenths)
}

// RestartMemcachedStep restarts memcached itself, for a rollout.
func RestartMemcachedStep() engine.Step {
	return engine.Restart{Service: "memcached", Label: restartMemcached}
}

// RestartTomcatStep restarts Tomcat itself, for a rollout.
func RestartTomcatStep() engine.Step {
	return engine.Restart{Service: "tomcat", DaemonReload: true, Label: restartTomcat}
}

// TomcatReadyStep waits until the Tomcat on host serves again as users need
// it: started (tomcatStarted), answering the probe app on its own port, and
// with MSM storing the probe's new session on a regular memcached node, not
// its failover node (which MSM only uses while no regular node is
// reachable). A drained Tomcat is undrained only after this.
func (c *Cluster) TomcatReadyStep(host string, timeout time.Duration) engine.Step {
	tc, _ := c.Topo.Tomcat(host)
	return engine.WaitFor{
		Label:     "tomcat ready",
		Condition: tomcatStarted + " && " + probeServesCond(tc),
		Timeout:   timeout,
		Hint:      "journalctl -u tomcat; the probe at http://" + tc.Address + ":" + fmt.Sprint(tc.Port) + topology.ProbeContext + "/",
	}
}

// probeServesCond asks the probe app on the Tomcat's own address and port
// (bash's /dev/tcp: no curl on minimal hosts) for a new session.
func probeServesCond(tc topology.Tomcat) string {
	req := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%d && printf 'GET %s/ HTTP/1.0\r\nHost: clusterctl-ready\r\n\r\n' >&3 && cat <&3`,
		tc.Address, tc.Port, topology.ProbeContext)
	cond := "r=$(timeout 5 bash -c " + engine.Quote(req) + ") && " +
		`printf '%s' "$r" | head -n 1 | grep -q ' 200 ' && printf '%s' "$r" | grep -q '"session":"'`
	if tc.FailoverNode.ID != "" {
		cond += ` && ! printf '%s' "$r" | grep -q -- ` + engine.Quote("-"+tc.FailoverNode.ID+".")
	}
	return cond
}

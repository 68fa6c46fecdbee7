package playbooks

import (
	"context"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/probe"
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
var DrainedDir = path.Join(engine.DefaultStateDir, "drained")

// nginxPIDFile is nginx.conf.tmpl's pid directive: the master whose workers
// a drain waits for.
const nginxPIDFile = "/run/nginx.pid"

// DrainedTomcats reads the Tomcats drained on a proxy.
func DrainedTomcats(ctx context.Context, h *engine.Host) (map[string]bool, error) {
	res, err := h.Conn.Run(probe.ReadOnly(ctx), DrainedProbe)
	if err != nil {
		return nil, fmt.Errorf("read drained tomcats: %w", err)
	}
	out := map[string]bool{}
	for _, n := range strings.Fields(res.Stdout) {
		out[n] = true
	}
	return out, nil
}

// DrainedProbe is DrainedTomcats' read, for a batch.
var DrainedProbe = "ls -1 " + engine.Quote(DrainedDir) + " 2>/dev/null || true"

// UpstreamsProbe is ProxyUpstreams' read on h, for a batch.
func (c *Cluster) UpstreamsProbe(h *engine.Host) string {
	p, err := c.target(h).Paths()
	if err != nil {
		return ""
	}
	return upstreamsCmd(p.NginxConf)
}

func upstreamsCmd(conf string) string {
	q := engine.Quote(conf)
	return "[ -e " + q + " ] || exit 0; cat " + q
}

// UpstreamServer is one `server` line of an nginx upstream block.
type UpstreamServer struct {
	Address string // as written: an IP address, a name, or unix:PATH
	Port    int    // 80, nginx's default, when none is written; 0 for unix:
	Down    bool
	Backup  bool
}

// ProxyUpstreams reads the upstream blocks of a proxy's live nginx.conf,
// by upstream name: what nginx was last given, which the markers
// (DrainedTomcats) only say it should be. A proxy without the file has no
// upstreams. Like DrainStep, it needs the host's facts for its paths.
func (c *Cluster) ProxyUpstreams(ctx context.Context, h *engine.Host) (map[string][]UpstreamServer, error) {
	p, err := c.target(h).Paths()
	if err != nil {
		return nil, err
	}
	res, err := h.Conn.Run(probe.ReadOnly(ctx), upstreamsCmd(p.NginxConf))
	if err != nil {
		return nil, fmt.Errorf("read upstreams: %w", err)
	}
	if err := res.ExitError("read " + p.NginxConf); err != nil {
		return nil, err
	}
	ups, err := ParseUpstreams([]byte(res.Stdout))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", h.Name(), p.NginxConf, err)
	}
	return ups, nil
}

// ParseUpstreams reads every `upstream NAME { ... }` block of an nginx
// configuration, wherever it is nested; directives other than `server` in
// them (ip_hash, keepalive, ...) and server parameters other than backup
// and down are ignored. It reads nginx's syntax (quotes, comments), not
// just the lines nginx.conf.tmpl writes, so a hand-edited file is read as
// nginx would read it or refused.
func ParseUpstreams(conf []byte) (map[string][]UpstreamServer, error) {
	toks, err := nginxTokens(string(conf))
	if err != nil {
		return nil, err
	}
	out := map[string][]UpstreamServer{}
	depth := 0
	var stmt []nginxToken // the directive being read
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.punct && t.text == "{":
			if len(stmt) == 2 && stmt[0].is("upstream") {
				name := stmt[1].text
				if _, dup := out[name]; dup {
					return nil, fmt.Errorf("line %d: upstream %s defined twice", t.line, name)
				}
				servers, next, err := upstreamServers(toks, i+1)
				if err != nil {
					return nil, fmt.Errorf("upstream %s: %w", name, err)
				}
				out[name] = servers
				i, stmt = next, nil
				continue
			}
			if len(stmt) > 0 && stmt[0].is("upstream") {
				return nil, fmt.Errorf("line %d: upstream wants one name, has %d", t.line, len(stmt)-1)
			}
			depth++
			stmt = nil
		case t.punct && t.text == "}":
			if depth == 0 {
				return nil, fmt.Errorf("line %d: unexpected }", t.line)
			}
			if len(stmt) > 0 {
				return nil, fmt.Errorf("line %d: %s has no ;", stmt[0].line, stmt[0].text)
			}
			depth--
		case t.punct && t.text == ";":
			stmt = nil
		default:
			stmt = append(stmt, t)
		}
	}
	if depth > 0 || len(stmt) > 0 {
		return nil, fmt.Errorf("unexpected end of file")
	}
	return out, nil
}

// upstreamServers reads an upstream block's directives from toks[i:] up to
// its closing brace and returns the index of that brace.
func upstreamServers(toks []nginxToken, i int) ([]UpstreamServer, int, error) {
	servers := []UpstreamServer{}
	var stmt []nginxToken
	for ; i < len(toks); i++ {
		t := toks[i]
		if !t.punct {
			stmt = append(stmt, t)
			continue
		}
		switch {
		case t.text == "{":
			return nil, 0, fmt.Errorf("line %d: unexpected { in an upstream", t.line)
		case t.text == "}":
			if len(stmt) > 0 {
				return nil, 0, fmt.Errorf("line %d: %s has no ;", stmt[0].line, stmt[0].text)
			}
			return servers, i, nil
		}
		if len(stmt) > 0 && stmt[0].is("server") {
			s, err := upstreamServer(stmt)
			if err != nil {
				return nil, 0, err
			}
			servers = append(servers, s)
		}
		stmt = nil
	}
	return nil, 0, fmt.Errorf("no closing }")
}

func upstreamServer(stmt []nginxToken) (UpstreamServer, error) {
	if len(stmt) < 2 {
		return UpstreamServer{}, fmt.Errorf("line %d: server without an address", stmt[0].line)
	}
	s := UpstreamServer{Address: stmt[1].text, Port: 80}
	if strings.HasPrefix(s.Address, "unix:") {
		s.Port = 0
	} else if host, port, err := net.SplitHostPort(s.Address); err == nil {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return UpstreamServer{}, fmt.Errorf("line %d: server %s: bad port", stmt[1].line, s.Address)
		}
		s.Address, s.Port = host, n
	} else if strings.Contains(s.Address, "]:") {
		return UpstreamServer{}, fmt.Errorf("line %d: server %s: %v", stmt[1].line, s.Address, err)
	} else {
		s.Address = strings.TrimSuffix(strings.TrimPrefix(s.Address, "["), "]")
	}
	for _, p := range stmt[2:] {
		switch p.text {
		case "down":
			s.Down = true
		case "backup":
			s.Backup = true
		}
	}
	return s, nil
}

// nginxToken is a word (quotes removed) or one of { } ; of nginx's syntax.
type nginxToken struct {
	text  string
	punct bool
	line  int
}

func (t nginxToken) is(word string) bool { return !t.punct && t.text == word }

// nginxTokens splits a configuration the way nginx does: whitespace
// separates words, # starts a comment outside quotes, quotes and
// backslashes escape.
func nginxTokens(s string) ([]nginxToken, error) {
	var toks []nginxToken
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, nginxToken{text: string(c), punct: true, line: line})
			i++
		case c == '"' || c == '\'':
			start := line
			var b strings.Builder
			for i++; ; i++ {
				if i >= len(s) {
					return nil, fmt.Errorf("line %d: unterminated quote", start)
				}
				if s[i] == '\\' && i+1 < len(s) {
					i++
				} else if s[i] == c {
					i++
					break
				}
				if s[i] == '\n' {
					line++
				}
				b.WriteByte(s[i])
			}
			toks = append(toks, nginxToken{text: b.String(), line: start})
		default:
			var b strings.Builder
			for i < len(s) && !strings.ContainsRune(" \t\r\n{};", rune(s[i])) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, nginxToken{text: b.String(), line: line})
		}
	}
	return toks, nil
}

// nginxConfStep is nginx.conf for a proxy, with its drained Tomcats down.
type nginxConfStep struct{ c *Cluster }

const nginxConfTitle = "file " + nginxConfPath

func (s nginxConfStep) Title() string { return nginxConfTitle }

func (s nginxConfStep) Probes(h *engine.Host) []string {
	p, err := s.c.target(h).Paths()
	if err != nil {
		return nil
	}
	return append([]string{DrainedProbe}, engine.File{Path: p.NginxConf}.Probes(h)...)
}

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
// Tomcat, and they exit once their requests are done. A drain that finds
// the marker and the file in place still reloads and waits: that is how a
// drain that ran out of time is retried with a longer wait, since the file
// says nothing about the workers that may still hold requests. An undrain
// that finds both in place does nothing.
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
	if err != nil {
		return nil, err
	}
	inPlace := fc == nil && markerOK
	if inPlace && !s.drain {
		return nil, nil
	}
	marker := engine.Quote(path.Join(DrainedDir, s.tomcat))
	markCmd := "rm -f " + marker + " && { rmdir " + engine.Quote(DrainedDir) + " 2>/dev/null || true; }"
	if s.drain {
		markCmd = "mkdir -p " + engine.Quote(DrainedDir) + " && : > " + marker
	}
	what := "marked down in every upstream, graceful reload, in-flight requests finished"
	switch {
	case inPlace:
		what = "already marked down in every upstream; graceful reload, in-flight requests finished"
	case !s.drain:
		what = "back in every upstream, graceful reload"
	}
	ch := &engine.Change{Summary: s.tomcat + " " + what}
	if fc != nil {
		ch.Diff, ch.Records = fc.Diff, fc.Records
	}
	ch.Apply = func(ctx context.Context) error {
		// The marker first: it is what the nginx play renders from, so a run
		// stopped between the two still converges to the same file.
		if !markerOK {
			if res, err := h.Conn.Run(ctx, markCmd); err != nil || !res.OK() {
				return fmt.Errorf("%s: marker: %v%s", s.Title(), err, res.Stderr)
			}
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
				"raise rollout.drain_timeout or find the long request; a retried drain reloads and waits again", s.Title(), s.wait, strings.TrimSpace(res.Stdout))
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

// RestartTomcatStep restarts Tomcat itself, for a rollout, putting the
// apps' wanted versions live while it is stopped (apps.go).
func (c *Cluster) RestartTomcatStep() engine.Step {
	return engine.Restart{Service: "tomcat", DaemonReload: true, Label: restartTomcat, WhileStopped: c.appsLiveScript()}
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
		Condition: c.readyCond(tc),
		Timeout:   timeout,
		Hint:      "journalctl -u tomcat; the probe at http://" + tc.Address + ":" + fmt.Sprint(tc.Port) + topology.ProbeContext + "/",
	}
}

// TomcatServesCond holds when the Tomcat on host has started and answers
// the probe with a session on one of ports: what a proxy's user gets from
// it, wherever MSM put the session. A Tomcat not yet restarted onto a new
// port serves on the one it had, so the rollout passes both.
func (c *Cluster) TomcatServesCond(host string, ports ...int) string {
	tc, _ := c.Topo.Tomcat(host)
	tc.FailoverNode = topology.Node{} // placement is the gate's concern
	var any []string
	for _, p := range ports {
		tc.Port = p
		any = append(any, "{ "+probeServesCond(tc)+"; }")
	}
	return tomcatStarted + " && { " + strings.Join(any, " || ") + "; }"
}

// readyCond: started, the probe serving, and every app's health answering.
func (c *Cluster) readyCond(tc topology.Tomcat) string {
	cond := tomcatStarted + " && " + probeServesCond(tc)
	if len(c.Inv.Apps) > 0 {
		cond += " && " + appsHealthCond(c.Inv.Apps, tc.Address, tc.Port)
	}
	return cond
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

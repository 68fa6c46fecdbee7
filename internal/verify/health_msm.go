package verify

import (
	"context"
	"encoding/xml"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/probe"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// msmJar is one jar MSM needs in $CATALINA_BASE/lib, matched by name.
type msmJar struct {
	name string // for messages
	re   *regexp.Regexp
}

// requiredJars follows docs/msm.md: core, the Tomcat-specific module and
// spymemcached always; kryo and its dependencies with serializer kryo.
func requiredJars(inv *inventory.Inventory) []msmJar {
	v := regexp.QuoteMeta(inv.MSM.Version)
	jar := func(name, re string) msmJar { return msmJar{name, regexp.MustCompile("^" + re + `\.jar$`)} }
	js := []msmJar{
		jar("memcached-session-manager-"+inv.MSM.Version+".jar", "memcached-session-manager-"+v),
		jar("memcached-session-manager-"+inv.Tomcat.MSMModule()+"-"+inv.MSM.Version+".jar", "memcached-session-manager-"+regexp.QuoteMeta(inv.Tomcat.MSMModule())+"-"+v),
		jar("spymemcached-2.12.x.jar", `spymemcached-2\.12\.\d+`),
	}
	if inv.MSM.Serializer == inventory.SerializerKryo {
		js = append(js,
			jar("msm-kryo-serializer-"+inv.MSM.Version+".jar", "msm-kryo-serializer-"+v),
			jar("kryo-4.x.jar", `kryo-4\.[\d.]+`),
			jar("kryo-serializers-*.jar", `kryo-serializers-[\d.]+`),
			jar("reflectasm-*.jar", `reflectasm-[\d.]+`),
			jar("minlog-*.jar", `minlog-[\d.]+`),
			jar("asm-*.jar", `asm-[\d.]+`),
			jar("objenesis-*.jar", `objenesis-[\d.]+`),
		)
	}
	return js
}

func (r *run) tomcatLib() string { return path.Join(r.catalinaBase(), "lib") }

func (r *run) msmJarsCmd() string { return "ls -1 " + shellQuote(r.tomcatLib()) }

func (r *run) contextFile() string { return path.Join(r.catalinaBase(), "conf", "context.xml") }

func (r *run) checkMSMJars(ctx context.Context, c remote.Conn) (Status, string) {
	lib := r.tomcatLib()
	res, err := r.read(ctx, c, r.msmJarsCmd())
	if err != nil {
		return fail("%v", err)
	}
	if !res.OK() {
		return fail("%s: %s (clusterctl apply installs Tomcat there)", lib, remote.LastLine(res.Stderr))
	}
	return judgeJars(lib, strings.Fields(res.Stdout), requiredJars(r.inv))
}

func judgeJars(lib string, files []string, want []msmJar) (Status, string) {
	var missing, found []string
	for _, j := range want {
		i := slices.IndexFunc(files, j.re.MatchString)
		if i < 0 {
			missing = append(missing, j.name)
			continue
		}
		found = append(found, files[i])
	}
	if len(missing) > 0 {
		return fail("missing in %s: %s (Tomcat cannot load MSM's Manager without them; clusterctl apply installs them)", lib, strings.Join(missing, ", "))
	}
	return ok("%s", strings.Join(found, ", "))
}

func (r *run) checkMSMContext(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	file := r.contextFile()
	ctx, cancel := context.WithTimeout(ctx, r.timing.Command)
	defer cancel()
	data, exists, err := probe.ReadFile(ctx, c, file)
	switch {
	case err != nil:
		return fail("%v", err)
	case !exists:
		return fail("%s does not exist (clusterctl apply writes it)", file)
	}
	tc, _ := r.topo.Tomcat(h.Name)
	m, err := parseContextManager(data)
	if err != nil {
		return fail("%s: %v (clusterctl apply writes it)", file, err)
	}
	return judgeContext(file, m, tc.MemcachedNodes, tc.FailoverNodes, r.topo.Sticky, h.Name)
}

// judgeContext compares the Manager with what the topology says this
// Tomcat must use. Lists are compared as sets: MSM does not care about
// order or about comma versus space.
func judgeContext(file string, m msmManager, wantNodes, wantFailover string, sticky bool, host string) (Status, string) {
	var bad []string
	if got := nodeSet(m.MemcachedNodes); !slices.Equal(got, nodeSet(wantNodes)) {
		bad = append(bad, fmt.Sprintf("memcachedNodes=%q, want %q", m.MemcachedNodes, wantNodes))
	}
	if got := nodeSet(m.FailoverNodes); !slices.Equal(got, nodeSet(wantFailover)) {
		why := ""
		if sticky {
			why = fmt.Sprintf(" (%s's own memcached: sessions must be backed up on another host)", host)
		}
		bad = append(bad, fmt.Sprintf("failoverNodes=%q, want %q%s", m.FailoverNodes, wantFailover, why))
	}
	// MSM's default is sticky="true".
	gotSticky := m.Sticky == "" || strings.EqualFold(m.Sticky, "true")
	if gotSticky != sticky {
		bad = append(bad, fmt.Sprintf("sticky=%q, want %t", m.Sticky, sticky))
	}
	if len(bad) > 0 {
		return fail("%s: %s; run clusterctl apply (it restarts Tomcat)", file, strings.Join(bad, "; "))
	}
	return ok("memcachedNodes=%q failoverNodes=%q", m.MemcachedNodes, m.FailoverNodes)
}

// msmLogScript prints Tomcat's log since the unit last started: the
// journal of the unit's current invocation (catalina.sh run logs to
// stdout), then, after a marker, the end of the newest catalina.*.log.
func (r *run) msmLogScript() string {
	logs := shellQuote(path.Join(r.catalinaBase(), "logs"))
	return `id=$(systemctl show -p InvocationID --value ` + unitTomcat + ` 2>/dev/null)
if [ -n "$id" ]; then journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="$id" 2>/dev/null | tail -n 5000; fi
echo '` + logMarker + `'
f=$(ls -t ` + logs + `/catalina.*.log 2>/dev/null | head -n 1)
if [ -n "$f" ]; then tail -n 5000 "$f"; fi`
}

const logMarker = "--- clusterctl: catalina log file ---"

func (r *run) checkMSMStarted(ctx context.Context, c remote.Conn, h inventory.Host) (Status, string) {
	res, err := r.read(ctx, c, r.msmLogScript())
	if err != nil {
		return fail("%v", err)
	}
	journal, file, _ := strings.Cut(res.Stdout, logMarker)
	// The file spans earlier starts too: keep its last start only.
	if i := strings.LastIndex(file, "Starting service ["); i >= 0 {
		file = file[i:]
	}
	s := parseMSMLog(pickTomcatLog(journal, file))
	tc, _ := r.topo.Tomcat(h.Name)
	var primary []string
	for _, n := range r.topo.Nodes {
		if n.ID != tc.FailoverNode.ID {
			primary = append(primary, n.ID)
		}
	}
	return judgeMSMStart(s, primary, nodeSet(tc.FailoverNodes))
}

// pickTomcatLog decides which log tells about the running Tomcat. When
// Tomcat logs to the journal (catalina.sh run under systemd), the current
// invocation's journal is the whole truth: a Tomcat still starting has no
// MSM line yet, and the log file's last start may be an older JVM's. Only
// a Tomcat that logs nothing to the journal is judged by its log file.
func pickTomcatLog(journal, file string) string {
	if strings.Contains(journal, "org.apache.catalina") || strings.Contains(journal, "de.javakaffee") {
		return journal
	}
	return file
}

func judgeMSMStart(s msmStart, wantPrimary, wantFailover []string) (Status, string) {
	switch {
	case !s.Started && s.Failure != "":
		return fail("MSM's Manager did not start; Tomcat's log says: %s", s.Failure)
	case !s.Started:
		return fail("no MSM start line in Tomcat's log since tomcat.service started: the Manager is not configured or the context did not start (see journalctl -u tomcat.service)")
	case s.Failure != "":
		return fail("MSM started, then Tomcat logged: %s", s.Failure)
	case s.FailoverIDs != nil && !slices.Equal(s.FailoverIDs, wantFailover),
		s.NodeIDs != nil && !slices.Equal(s.NodeIDs, wantPrimary):
		return fail("running MSM uses node ids %v, failover node ids %v; the inventory wants %v, %v (fix context.xml with clusterctl apply; if it is right already, Tomcat has not been restarted since it changed)", s.NodeIDs, s.FailoverIDs, wantPrimary, wantFailover)
	}
	what := "memcached-session-manager started"
	if s.StandIn {
		what = "MSM test double (lab stand-in, not real MSM) started"
	}
	return ok("%s: node ids %v, failover node ids %v", what, s.NodeIDs, s.FailoverIDs)
}

// msmManager is MSM's Manager element in context.xml.
type msmManager struct {
	ClassName      string `xml:"className,attr"`
	MemcachedNodes string `xml:"memcachedNodes,attr"`
	FailoverNodes  string `xml:"failoverNodes,attr"`
	Sticky         string `xml:"sticky,attr"`
}

const msmManagerClass = "de.javakaffee.web.msm.MemcachedBackupSessionManager"

// parseContextManager finds MSM's Manager in a context.xml.
func parseContextManager(data []byte) (msmManager, error) {
	var ctx struct {
		XMLName  xml.Name     `xml:"Context"`
		Managers []msmManager `xml:"Manager"`
	}
	if err := xml.Unmarshal(data, &ctx); err != nil {
		return msmManager{}, fmt.Errorf("not valid XML: %v", err)
	}
	for _, m := range ctx.Managers {
		if m.ClassName == msmManagerClass {
			return m, nil
		}
	}
	return msmManager{}, fmt.Errorf("no <Manager className=%q>", msmManagerClass)
}

// nodeSet splits MSM's memcachedNodes / failoverNodes lists (comma or
// space separated, as MSM accepts) into a sorted set.
func nodeSet(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	slices.Sort(f)
	return slices.Compact(f)
}

// msmStart is what Tomcat's log says about MSM's start.
type msmStart struct {
	Started     bool
	NodeIDs     []string // primary (non-failover) node ids
	FailoverIDs []string
	StandIn     bool   // the lab's test double, not real MSM
	Failure     string // the last SEVERE line about MSM or its context since the last start line
}

// parseMSMLog scans a Tomcat log (oldest first) for MSM's start.
func parseMSMLog(log string) msmStart {
	var s msmStart
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		switch {
		case msmStartRE.MatchString(l):
			s = msmStart{Started: true, StandIn: strings.Contains(l, "test double")}
			// Real MSM spreads the details over the next lines.
			block := strings.Join(lines[i:min(i+8, len(lines))], "\n")
			if m := msmFailIDsRE.FindStringSubmatch(block); m != nil {
				s.FailoverIDs = splitList(m[1])
			}
			if m := msmNodeIDsRE.FindStringSubmatch(block); m != nil {
				s.NodeIDs = splitList(m[1])
			}
		case msmFailureRE.MatchString(l):
			s.Failure = strings.TrimSpace(l)
		}
	}
	return s
}

func splitList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	f := bracketListRE.Split(s, -1)
	slices.Sort(f)
	return f
}

var (
	// Real MSM 2.3.x logs, at the end of startInternal, a block with
	// "MemcachedSessionService finished initialization:", "- node ids: [n2]"
	// and "- failover node ids: [n1]"; the lab's stand-in one line
	// "clusterctl MSM test double started: sticky, node ids [n2], failover node ids [n1], ...".
	msmStartRE    = regexp.MustCompile(`finished initialization|MSM test double started`)
	msmNodeIDsRE  = regexp.MustCompile(`(?:^|[-,]\s*)node ids:? \[([^\]]*)\]`)
	msmFailIDsRE  = regexp.MustCompile(`failover node ids:? \[([^\]]*)\]`)
	msmFailureRE  = regexp.MustCompile(`(?i)(SEVERE|ERROR).*(memcached|msm|javakaffee|Context \[[^\]]*\] startup failed|NoSuchMethodError|NoSuchFieldError|ClassNotFoundException)|(ClassNotFoundException|NoClassDefFoundError|NoSuchMethodError|NoSuchFieldError).*(javakaffee|spy)`)
	bracketListRE = regexp.MustCompile(`\s*,\s*`)
)

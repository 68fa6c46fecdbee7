// Package status reads, without changing anything, what an operator asks
// of a running cluster: per host its services and versions, the restarts a
// run left pending, who holds the run lock; per proxy the Tomcats drained
// there; per memcached how full it is (items, memory of its limit,
// evictions, connections of its limit); per Tomcat which memcached node its
// MSM puts a new session on. One remote command per host.
package status

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/hostlock"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/parallel"
	"github.com/clusterctl/clusterctl/internal/topology"
	"github.com/clusterctl/clusterctl/playbooks"
)

// Host is one host's status.
type Host struct {
	Name      string            `json:"host"`
	Roles     []string          `json:"roles"`
	Error     string            `json:"error,omitempty"` // unreachable, or the read failed
	Services  map[string]string `json:"services"`        // unit -> systemctl is-active
	Versions  map[string]string `json:"versions"`
	Pending   []string          `json:"pending"` // restarts a run left for the next one
	Lock      string            `json:"lock,omitempty"`
	Drained   []string          `json:"drained,omitempty"` // proxy: Tomcats drained here
	Memcached *Memcached        `json:"memcached,omitempty"`
	Tomcat    *Tomcat           `json:"tomcat,omitempty"`
}

// Memcached is one memcached's fill, from its `stats`.
type Memcached struct {
	Items          int64  `json:"items"`
	Bytes          int64  `json:"bytes"`
	LimitBytes     int64  `json:"limit_bytes"`
	Evictions      int64  `json:"evictions"`
	Connections    int64  `json:"connections"`
	MaxConnections int64  `json:"max_connections"`
	Error          string `json:"error,omitempty"`
}

// Tomcat is where a Tomcat's MSM puts a new session.
type Tomcat struct {
	Node     string `json:"node"`      // the node id in a new session's id, "" when none was made
	NodeHost string `json:"node_host"` // the host whose memcached that is
	Failover bool   `json:"failover"`  // the Tomcat's failover node: its regular node is not reachable
	Error    string `json:"error,omitempty"`
}

// Gather reads every host (unreachable ones say so) in parallel.
func Gather(ctx context.Context, inv *inventory.Inventory, topo *topology.Topology, hosts []*engine.Host, limit int) []Host {
	out := make([]Host, len(hosts))
	parallel.Each(len(hosts), limit, func(i int) {
		h := hosts[i]
		ih, _ := inv.Host(h.Name())
		st := Host{Name: h.Name(), Services: map[string]string{}, Versions: map[string]string{}}
		for _, r := range ih.Roles {
			st.Roles = append(st.Roles, string(r))
		}
		if err := h.Unreachable(); err != nil {
			st.Error = err.Error()
			out[i] = st
			return
		}
		res, err := h.Conn.Run(ctx, Script(inv, topo, ih))
		if err != nil {
			st.Error = err.Error()
			out[i] = st
			return
		}
		parse(&st, res.Stdout, topo)
		out[i] = st
	})
	return out
}

// Script is the one command that reads host h: sections "## name", each
// read by parse.
func Script(inv *inventory.Inventory, topo *topology.Topology, h inventory.Host) string {
	q := engine.Quote
	var b strings.Builder
	var units []string
	for _, u := range []struct {
		role inventory.Role
		unit string
	}{{inventory.RoleTomcat, "tomcat"}, {inventory.RoleMemcached, "memcached"}, {inventory.RoleProxy, "nginx"}} {
		if h.Has(u.role) {
			units = append(units, u.unit)
		}
	}
	b.WriteString("echo '## services'; for u in " + strings.Join(units, " ") + `; do echo "$u $(systemctl is-active $u 2>/dev/null)"; done` + "\n")
	b.WriteString("echo '## versions'\n")
	if h.Has(inventory.RoleTomcat) {
		home := inv.CatalinaHome()
		fmt.Fprintf(&b, "echo \"java $(%s -version 2>&1 | head -n 1)\"\n", q(path.Join(inv.Java.Home, "bin", "java")))
		fmt.Fprintf(&b, "echo \"tomcat $(basename \"$(readlink -f %s)\")\"\n", q(home))
		fmt.Fprintf(&b, "echo \"msm $(cd %s 2>/dev/null && ls memcached-session-manager-[0-9]*.jar 2>/dev/null | head -n 1)\"\n", q(path.Join(home, "lib")))
	}
	if h.Has(inventory.RoleMemcached) {
		b.WriteString("echo \"memcached $(memcached -V 2>/dev/null)\"\n")
	}
	if h.Has(inventory.RoleProxy) {
		b.WriteString("echo \"nginx $(nginx -v 2>&1)\"\n")
	}
	fmt.Fprintf(&b, "echo '## pending'; ls -1 %s 2>/dev/null\n", q(path.Join(engine.DefaultStateDir, engine.PendingDir)))
	fmt.Fprintf(&b, "echo '## lock'; cat %s 2>/dev/null\n", q(path.Join(hostlock.Dir, "holder")))
	if h.Has(inventory.RoleProxy) {
		fmt.Fprintf(&b, "echo '## drained'; ls -1 %s 2>/dev/null\n", q(playbooks.DrainedDir))
	}
	if h.Has(inventory.RoleMemcached) {
		fmt.Fprintf(&b, "echo '## stats'; timeout 3 bash -c %s\n",
			q(fmt.Sprintf(`exec 3<>/dev/tcp/%s/%d && printf 'stats\r\n' >&3 && sed -n '/^END/q;p' <&3 | tr -d '\r'`, h.Address, inv.Memcached.Port)))
	}
	if tc, ok := topo.Tomcat(h.Name); ok {
		fmt.Fprintf(&b, "echo '## probe'; %s\n", playbooks.SessionRequest(tc.Address, tc.Port, topology.ProbeContext+"/", ""))
	}
	b.WriteString("true")
	return b.String()
}

// parse fills st from Script's output.
func parse(st *Host, out string, topo *topology.Topology) {
	section := ""
	var stats map[string]string
	probe := []string{}
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		if s, ok := strings.CutPrefix(l, "## "); ok {
			section = s
			if s == "stats" {
				stats = map[string]string{}
			}
			continue
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		switch section {
		case "services":
			if u, state, ok := strings.Cut(l, " "); ok {
				st.Services[u] = state
			}
		case "versions":
			if k, v, ok := strings.Cut(l, " "); ok {
				st.Versions[k] = version(k, v)
			}
		case "pending":
			st.Pending = append(st.Pending, l)
		case "lock":
			st.Lock = strings.TrimSpace(st.Lock + " " + l)
		case "drained":
			st.Drained = append(st.Drained, l)
		case "stats":
			if f := strings.Fields(l); len(f) == 3 && f[0] == "STAT" {
				stats[f[1]] = f[2]
			}
		case "probe":
			probe = append(probe, l)
		}
	}
	if stats != nil {
		m := &Memcached{}
		if len(stats) == 0 {
			m.Error = "memcached does not answer stats"
		}
		n := func(k string) int64 { v, _ := strconv.ParseInt(stats[k], 10, 64); return v }
		m.Items, m.Bytes, m.LimitBytes, m.Evictions = n("curr_items"), n("bytes"), n("limit_maxbytes"), n("evictions")
		m.Connections, m.MaxConnections = n("curr_connections"), n("max_connections")
		st.Memcached = m
	}
	if tc, ok := topo.Tomcat(st.Name); ok {
		st.Tomcat = placement(tc, probe, topo)
	}
}

// placement reads the node of the probe's new session: "<hex>-<node>.<route>".
func placement(tc topology.Tomcat, probe []string, topo *topology.Topology) *Tomcat {
	t := &Tomcat{}
	if len(probe) == 0 || !strings.Contains(probe[0], " 200") {
		t.Error = "the probe app does not answer on " + tc.Address + ":" + strconv.Itoa(tc.Port)
		return t
	}
	for _, l := range probe[1:] {
		_, v, ok := strings.Cut(l, "JSESSIONID=")
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(v, ";")
		_, suffix, _ := strings.Cut(id, "-")
		t.Node, _, _ = strings.Cut(suffix, ".")
	}
	if t.Node == "" {
		t.Error = "the probe made no session"
		return t
	}
	for _, n := range topo.Nodes {
		if n.ID == t.Node {
			t.NodeHost = n.Host
		}
	}
	t.Failover = tc.FailoverNode.ID != "" && t.Node == tc.FailoverNode.ID
	return t
}

// version trims what each tool prints to the version itself.
func version(tool, v string) string {
	v = strings.TrimSpace(v)
	switch tool {
	case "java": // openjdk version "17.0.15" 2025-04-15
		if _, rest, ok := strings.Cut(v, `"`); ok {
			v, _, _ = strings.Cut(rest, `"`)
		}
	case "tomcat":
		v = strings.TrimPrefix(v, "apache-tomcat-")
	case "msm":
		v = strings.TrimSuffix(strings.TrimPrefix(v, "memcached-session-manager-"), ".jar")
	case "memcached":
		v = strings.TrimPrefix(v, "memcached ")
	case "nginx": // nginx version: nginx/1.22.1
		if _, rest, ok := strings.Cut(v, "nginx/"); ok {
			v, _, _ = strings.Cut(rest, " ")
		}
	}
	return v
}

// Problems are what an operator should look at, one line each; none on a
// healthy, quiet cluster.
func Problems(hosts []Host) []string {
	var out []string
	for _, h := range hosts {
		if h.Error != "" {
			out = append(out, h.Name+": "+h.Error)
			continue
		}
		for _, u := range slices.Sorted(maps.Keys(h.Services)) {
			if s := h.Services[u]; s != "active" {
				out = append(out, fmt.Sprintf("%s: %s is %s", h.Name, u, s))
			}
		}
		if len(h.Pending) > 0 {
			out = append(out, fmt.Sprintf("%s: restarts left pending by an earlier run: %s (apply or restart finishes them)", h.Name, strings.Join(h.Pending, ", ")))
		}
		for _, t := range h.Drained {
			out = append(out, fmt.Sprintf("%s: %s is drained here (apply or restart tomcat puts it back)", h.Name, t))
		}
		if m := h.Memcached; m != nil {
			switch {
			case m.Error != "":
				out = append(out, h.Name+": "+m.Error)
			case m.MaxConnections > 0 && m.Connections*10 >= m.MaxConnections*9:
				out = append(out, fmt.Sprintf("%s: memcached has %d of %d connections", h.Name, m.Connections, m.MaxConnections))
			}
		}
		if t := h.Tomcat; t != nil {
			switch {
			case t.Error != "":
				out = append(out, h.Name+": "+t.Error)
			case t.Failover:
				out = append(out, fmt.Sprintf("%s: new sessions go to %s (%s), its failover node: its regular node is not reachable", h.Name, t.Node, t.NodeHost))
			}
		}
	}
	return out
}

// Text writes the status as an operator reads it: a table of hosts, then
// the memcached nodes, where each Tomcat's new sessions go, the run lock,
// and what to look at.
func Text(w io.Writer, hosts []Host) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tROLES\tSERVICES\tVERSIONS")
	for _, h := range hosts {
		if h.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tunreachable\t\n", h.Name, strings.Join(h.Roles, ","))
			continue
		}
		var svc, ver []string
		for _, u := range slices.Sorted(maps.Keys(h.Services)) {
			svc = append(svc, u+" "+h.Services[u])
		}
		for _, k := range []string{"java", "tomcat", "msm", "memcached", "nginx"} {
			if v, ok := h.Versions[k]; ok {
				ver = append(ver, k+" "+v)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Name, strings.Join(h.Roles, ","), strings.Join(svc, ", "), strings.Join(ver, ", "))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMCACHED\tITEMS\tMEMORY\tEVICTIONS\tCONNECTIONS")
	for _, h := range hosts {
		if m := h.Memcached; m != nil && m.Error == "" {
			fmt.Fprintf(tw, "%s\t%d\t%.1f of %d MiB\t%d\t%d of %d\n", h.Name, m.Items, float64(m.Bytes)/(1<<20), m.LimitBytes>>20, m.Evictions, m.Connections, m.MaxConnections)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOMCAT\tNEW SESSIONS ON")
	for _, h := range hosts {
		if t := h.Tomcat; t != nil && t.Error == "" {
			where := t.Node + " (" + t.NodeHost + "'s memcached)"
			if t.Failover {
				where += ", its failover node"
			}
			fmt.Fprintf(tw, "%s\t%s\n", h.Name, where)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	lock := "free"
	for _, h := range hosts {
		if h.Lock != "" {
			lock = "held on " + h.Name + ": " + h.Lock
			break
		}
	}
	fmt.Fprintln(w, "run lock:", lock)
	if ps := Problems(hosts); len(ps) > 0 {
		fmt.Fprintln(w, "look at:")
		for _, p := range ps {
			fmt.Fprintln(w, "  "+p)
		}
	} else {
		fmt.Fprintln(w, "nothing to look at: every service active, nothing drained or pending, every Tomcat on its regular node")
	}
}

// Package appgate decides, before a new version of an operator's app
// serves anyone, whether it can read the sessions the running version
// wrote, and whether the running version could read what the new one
// writes (a rollback, and the rolling window, need both directions).
//
// MSM deletes a session it cannot deserialize (docs/msm.md), so the
// question must never be put to MSM on a Tomcat: the gate reads sampled
// session blobs itself (a memcached get, read-only) and decodes them in a
// throwaway JVM on a Tomcat host (assets/sessioncheck: Tomcat's lib, the
// MSM jars there, the new WAR's classes, MSM's own transcoder). It writes
// nothing to memcached and nothing into Tomcat.
package appgate

import (
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/assets"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/remote"
)

// Sample is one session blob as memcached holds it.
type Sample struct {
	Key   string
	Value []byte
}

// Finding is one sampled session a version cannot read.
type Finding struct {
	Key   string
	Cause string // "java.io.InvalidClassException: shop.Cart; local class incompatible: ..."
}

// Report is what the check found in the sample.
type Report struct {
	Sampled int
	OK      int
	Skipped int       // sessions of another app: a class neither version has
	New     []Finding // the new version cannot read them
	Back    []Finding // the old version cannot read them once the new one wrote them
}

// Where the check runs on a host.
type Where struct {
	Java         string // the JVM Tomcat runs: <java.home>/bin/java
	CatalinaHome string
	StateDir     string // engine state dir: the jar and the sample file live below it
}

// Check runs the check on h for the WAR newWar (the wanted version) against
// oldWar (the live one). The sample is written to a 0600 file (session
// data) and removed again whatever happens.
func Check(ctx context.Context, h remote.Conn, w Where, newWar, oldWar string, samples []Sample) (Report, error) {
	rep := Report{Sampled: len(samples)}
	if len(samples) == 0 {
		return rep, nil
	}
	dir := path.Join(w.StateDir, "sessioncheck")
	jar, input := path.Join(dir, "sessioncheck.jar"), path.Join(dir, "sample")
	if res, err := h.Run(ctx, "mkdir -p -m 0700 "+engine.Quote(dir)); err != nil || !res.OK() {
		return rep, fmt.Errorf("create %s: %v %s", dir, err, res.Stderr)
	}
	if err := h.WriteFile(ctx, jar, assets.SessionCheckJar, remote.FileMeta{Mode: 0o644}); err != nil {
		return rep, err
	}
	var b strings.Builder
	for _, s := range samples {
		fmt.Fprintf(&b, "%s %s\n", s.Key, base64.StdEncoding.EncodeToString(s.Value))
	}
	if err := h.WriteFile(ctx, input, []byte(b.String()), remote.FileMeta{Mode: 0o600}); err != nil {
		return rep, err
	}
	defer h.Run(context.WithoutCancel(ctx), "rm -f "+engine.Quote(input))
	cmd := fmt.Sprintf("%s -cp %s SessionCheck %s %s %s < %s", engine.Quote(w.Java), engine.Quote(jar),
		engine.Quote(newWar), engine.Quote(oldWar), engine.Quote(w.CatalinaHome), engine.Quote(input))
	res, err := h.Run(ctx, cmd)
	if err != nil {
		return rep, err
	}
	if !res.OK() {
		return rep, fmt.Errorf("the session check did not run: exit %d: %s", res.ExitCode, remote.LastLine(res.Stderr, res.Stdout))
	}
	return rep, parse(res.Stdout, &rep)
}

func parse(out string, rep *Report) error {
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		verdict, rest, _ := strings.Cut(l, " ")
		key, cause, _ := strings.Cut(rest, " ")
		switch verdict {
		case "OK":
			rep.OK++
		case "SKIP":
			rep.Skipped++
		case "NEW":
			rep.New = append(rep.New, Finding{key, cause})
		case "BACK":
			rep.Back = append(rep.Back, Finding{key, cause})
		case "":
		default:
			return fmt.Errorf("the session check printed %q", l)
		}
	}
	return nil
}

// Err is nil when every sampled session of the app reads both ways; else
// it names the causes (most frequent first) and the counts, for app
// (going from live to next). force turns it into nil; the caller still
// prints Summary.
func (r Report) Err(app, next string) error {
	if len(r.New)+len(r.Back) == 0 {
		return nil
	}
	var parts []string
	if len(r.New) > 0 {
		parts = append(parts, fmt.Sprintf("%s cannot read %d of the %d sampled sessions (%s)", next, len(r.New), r.Sampled, causes(r.New)))
	}
	if len(r.Back) > 0 {
		parts = append(parts, fmt.Sprintf("the running version cannot read %d of them once %s wrote them, so the rolling window and a rollback would lose them (%s)", len(r.Back), next, causes(r.Back)))
	}
	return fmt.Errorf("app %s: %s; no user reached %s and nothing was changed where users are; fix the session classes (keep serialVersionUID, keep field types), or roll anyway with --force", app, strings.Join(parts, "; "), next)
}

// Summary is one line of what the check found.
func (r Report) Summary() string {
	return fmt.Sprintf("%d sessions sampled: %d read both ways, %d of other apps, %d unreadable by the new version, %d unreadable by the old one after the new wrote them",
		r.Sampled, r.OK, r.Skipped, len(r.New), len(r.Back))
}

// causes lists distinct causes, the most frequent first.
func causes(fs []Finding) string {
	n := map[string]int{}
	for _, f := range fs {
		n[f.Cause]++
	}
	var cs []string
	for c := range n {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return n[cs[i]] > n[cs[j]] || n[cs[i]] == n[cs[j]] && cs[i] < cs[j] })
	for i, c := range cs {
		cs[i] = fmt.Sprintf("%dx %s", n[c], c)
	}
	return strings.Join(cs, "; ")
}

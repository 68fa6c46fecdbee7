package rollout

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/memcache"
	"github.com/clusterctl/clusterctl/playbooks"
)

// The live session check (docs/apps.md) sees what the offline one cannot:
// the canary, restarted onto the new version and still drained, makes a
// session at the app's session path, and a Tomcat still on the old version
// is asked for it through its own port, where MSM loads it from memcached
// and deserializes it with the old classes; then the other way round. A
// Tomcat that cannot read the session answers with a new one, and MSM logs
// "Could not deserialize" with the cause (and deletes the key: only the
// check's own session is lost). Users never see the canary: it is drained
// throughout.

// backupWait bounds how long the check waits for MSM's asynchronous backup
// of a session it made (sessionBackupAsync, msm.md) to reach memcached.
const backupWait = 10 * time.Second

func (e *SSH) CheckLive(ctx context.Context, t string, serving []string) error {
	if e.Engine.DryRun {
		return nil
	}
	for _, p := range e.Cluster.Apps() {
		if !p.App.Live() {
			continue
		}
		vt, err := e.liveVersion(ctx, t, p)
		if err != nil || vt == "" {
			return err
		}
		old, vo := "", ""
		for _, o := range serving {
			v, err := e.liveVersion(ctx, o, p)
			if err != nil {
				return err
			}
			if v != "" && v != vt {
				old, vo = o, v
				break
			}
		}
		if old == "" {
			continue
		}
		t0 := time.Now()
		title := "live session check " + p.App.Name
		refusal, err := e.crossRead(ctx, p, t, old)
		if err == nil && refusal == "" {
			refusal, err = e.crossRead(ctx, p, old, t)
		}
		if err != nil {
			e.emit(t, title, "", t0, err)
			return fmt.Errorf("app %s: live session check on %s: %w", p.App.Name, t, err)
		}
		what := fmt.Sprintf("%s (new %.12s) and %s (live %.12s)", t, vt, old, vo)
		if refusal == "" {
			e.emit(t, title, what+" read each other's new sessions; MSM logged no deserialization error", t0, nil)
			continue
		}
		if e.Force {
			e.emit(t, title, refusal+"; rolling anyway (--force): expect the sessions of the old version to break", t0, nil)
			continue
		}
		err = fmt.Errorf("app %s: the live session check refused %s: %s: %s is put back on %.12s before any user reaches it",
			p.App.Name, p.App.WAR, refusal, t, vo)
		e.emit(t, title, what, t0, err)
		if rerr := e.refuse(ctx, p, t, vt, vo); rerr != nil {
			return fmt.Errorf("%w; and wanting %.12s again failed: %v", err, vo, rerr)
		}
		return err
	}
	return nil
}

// liveVersion is the SHA-256 of p's live WAR on host ("" when none).
func (e *SSH) liveVersion(ctx context.Context, host string, p playbooks.AppPlace) (string, error) {
	res, err := e.host(host).Conn.Run(ctx, fmt.Sprintf("sha256sum %s 2>/dev/null | cut -c1-64", engine.Quote(p.Live)))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Stdout), nil
}

// crossRead makes a session on from and asks to for it: "" when to read
// it, else why not. An error is a check that could not run.
func (e *SSH) crossRead(ctx context.Context, p playbooks.AppPlace, from, to string) (string, error) {
	since, err := e.clock(ctx, to)
	if err != nil {
		return "", err
	}
	status, id, err := e.sessionRequest(ctx, from, p.App.SessionURLPath(), "")
	if err != nil {
		return "", err
	}
	if !strings.Contains(status, " 2") {
		return fmt.Sprintf("%s answered %s at %s", from, strings.TrimSpace(status), p.App.SessionURLPath()), nil
	}
	if id == "" {
		return "", fmt.Errorf("%s made no session at %s: set apps[].session_path to a page that puts the app's objects in a session, or apps[].session_check to offline", from, p.App.SessionURLPath())
	}
	if err := e.awaitBackup(ctx, id); err != nil {
		return "", err
	}
	status, id2, err := e.sessionRequest(ctx, to, p.App.SessionURLPath(), id)
	if err != nil {
		return "", err
	}
	logged, err := e.deserializeErrors(ctx, to, since)
	if err != nil {
		return "", err
	}
	switch {
	case logged != "":
		return fmt.Sprintf("%s could not read a session %s made: MSM logged %s", to, from, logged), nil
	case !strings.Contains(status, " 2"):
		return fmt.Sprintf("%s answered %s for a session %s made", to, strings.TrimSpace(status), from), nil
	case id2 != "" && sessionBase(id2) != sessionBase(id):
		return fmt.Sprintf("%s could not read a session %s made: it answered with a new session", to, from), nil
	}
	return "", nil
}

// sessionBase is a session id without MSM's "-node.jvmRoute" suffix, which
// a takeover changes.
func sessionBase(id string) string {
	base, _, _ := strings.Cut(id, "-")
	return base
}

// sessionRequest asks host's Tomcat, on its own address and port, for
// urlPath; it returns the status line and the session id the answer sets.
func (e *SSH) sessionRequest(ctx context.Context, host, urlPath, session string) (status, id string, err error) {
	tc, _ := e.Cluster.Topo.Tomcat(host)
	res, err := e.host(host).Conn.Run(ctx, playbooks.SessionRequest(tc.Address, tc.Port, urlPath, session))
	if err != nil {
		return "", "", err
	}
	if !res.OK() {
		return "", "", res.ExitError(host + ": ask Tomcat for " + urlPath)
	}
	lines := strings.Split(strings.ReplaceAll(res.Stdout, "\r", ""), "\n")
	for _, l := range lines[1:] {
		if _, v, ok := strings.Cut(l, "JSESSIONID="); ok {
			id, _, _ = strings.Cut(v, ";")
		}
	}
	return lines[0], strings.TrimSpace(id), nil
}

// awaitBackup waits until MSM's backup of session id is in a memcached:
// only then can another Tomcat load it. In sticky mode the key is the full
// session id, behind the storage key prefix when one is set.
func (e *SSH) awaitBackup(ctx context.Context, id string) error {
	deadline := time.Now().Add(backupWait)
	for {
		for _, m := range e.MemcachedHosts() {
			found := false
			if err := e.withMemcache(ctx, m, func(mc *memcache.Memcache) error {
				keys, err := mc.Keys(ctx)
				for _, k := range keys {
					found = found || strings.HasSuffix(k.Key, id)
				}
				return err
			}); err != nil {
				return err
			}
			if found {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the session %s made was not in any memcached after %s (MSM's backup)", id, backupWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// clock is host's time in seconds since the epoch: journalctl's --since
// reads the host's clock, not ours.
func (e *SSH) clock(ctx context.Context, host string) (int64, error) {
	res, err := e.host(host).Conn.Run(ctx, "date +%s")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(res.Stdout), 10, 64)
}

// deserializeErrors is the cause of the first "Could not deserialize" MSM
// logged on host since then ("" when none): the deepest exception of its
// stack trace, which names the class, as in "java.io.InvalidClassException:
// shop.Cart; local class incompatible: ...".
func (e *SSH) deserializeErrors(ctx context.Context, host string, since int64) (string, error) {
	res, err := e.host(host).Conn.Run(ctx, fmt.Sprintf(
		`journalctl -u tomcat --since @%d --no-pager -o cat 2>/dev/null | grep -m1 -A80 'Could not deserialize' || true`, since))
	if err != nil {
		return "", err
	}
	return deserializeCause(res.Stdout), nil
}

// exceptionRE is a stack trace's exception line (JULI indents the trace
// under the log line).
var exceptionRE = regexp.MustCompile(`^\s*(Caused by: )?[A-Za-z0-9_.$]+(Exception|Error)(: .*)?$`)

// deserializeCause picks, from MSM's log line and the stack trace under it,
// the innermost cause; the log line itself when there is no trace.
func deserializeCause(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return ""
	}
	cause := ""
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "Caused by: ") && !exceptionRE.MatchString(l) {
			break // the next log record
		}
		if exceptionRE.MatchString(l) {
			cause = strings.TrimPrefix(strings.TrimSpace(l), "Caused by: ")
		}
	}
	if cause == "" {
		return strings.TrimSpace(lines[0])
	}
	return cause
}

// refuse wants version keep of p again on every Tomcat host and marks, on
// the canary, the refused version, so the restart that puts keep back
// also restores the canary's previous version (playbooks appsLiveScript).
func (e *SSH) refuse(ctx context.Context, p playbooks.AppPlace, canary, refused, keep string) error {
	var errs []error
	for _, t := range e.Tomcats() {
		cmd := fmt.Sprintf("echo %s > %s", keep, engine.Quote(p.Want))
		if t == canary {
			cmd += fmt.Sprintf(" && echo %s > %s", refused, engine.Quote(p.Refused))
		}
		res, err := e.host(t).Conn.Run(ctx, cmd)
		if err == nil && !res.OK() {
			err = res.ExitError(t + ": want the live version again")
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

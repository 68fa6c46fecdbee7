package rollout

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/internal/appgate"
	"github.com/clusterctl/clusterctl/internal/engine"
	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/memcache"
	"github.com/clusterctl/clusterctl/playbooks"
)

// sampleSize bounds the sessions the app gate reads: enough to meet every
// session shape a real app has in use, few enough to decode in seconds.
const sampleSize = 50

// CheckApps runs the app gate (internal/appgate) for every app whose wanted
// version on some Tomcat is not the live one there: on that Tomcat's host,
// with a sample of the sessions in memcached. A refusal puts every Tomcat's
// wanted version back to its live one, so no later restart puts the
// refused version in place; Force rolls anyway and says how many sampled
// sessions it expects to break.
func (e *SSH) CheckApps(ctx context.Context) error {
	inv := e.Cluster.Inv
	for _, p := range e.Cluster.Apps() {
		host, live, want, err := e.pendingApp(ctx, p)
		if err != nil || host == nil {
			return err
		}
		t0 := time.Now()
		title := "session check " + p.App.Name
		if e.Engine.DryRun {
			e.emit(host.Name(), title, "would decode sampled sessions with "+p.App.WAR+"'s classes, and back", t0, nil)
			continue
		}
		if !p.App.Offline() {
			e.emit(host.Name(), title, "skipped: the app's session_check is "+p.App.SessionCheck, t0, nil)
			continue
		}
		if inv.MSM.Serializer != inventory.SerializerJava {
			e.emit(host.Name(), title, "skipped: the offline check knows MSM's Java serialization only, not "+inv.MSM.Serializer, t0, nil)
			continue
		}
		samples, err := e.sampleSessions(ctx)
		if err != nil {
			return fmt.Errorf("app %s: sampling sessions for the session check: %w (nothing was restarted)", p.App.Name, err)
		}
		rep, err := appgate.Check(ctx, host.Conn, appgate.Where{
			Java: path.Join(inv.Java.Home, "bin", "java"), CatalinaHome: inv.CatalinaHome(), StateDir: e.stateDir(),
		}, path.Join(p.Dir, want+".war"), p.Live, samples)
		if err == nil {
			err = rep.Err(p.App.Name, p.App.WAR)
		}
		if err != nil && e.Force && len(rep.New)+len(rep.Back) > 0 {
			e.emit(host.Name(), title, fmt.Sprintf("%s; rolling anyway (--force): expect about %d%% of the live sessions to break", rep.Summary(),
				100*(len(rep.New)+len(rep.Back))/max(rep.Sampled, 1)), t0, nil)
			continue
		}
		e.emit(host.Name(), title, rep.Summary()+" (live "+live[:min(12, len(live))]+")", t0, err)
		if err != nil {
			if rerr := e.keepLive(ctx, p); rerr != nil {
				return fmt.Errorf("%w; and putting the wanted version back to the live one failed: %v", err, rerr)
			}
			return err
		}
	}
	return nil
}

// pendingApp is the first Tomcat host where p's wanted version is not
// live, with the live and wanted versions' SHA-256; nil when there is
// none, or when nothing is live yet (a first deploy: no session of the app
// exists).
func (e *SSH) pendingApp(ctx context.Context, p playbooks.AppPlace) (h *engine.Host, live, want string, err error) {
	for _, t := range e.Tomcats() {
		h := e.host(t)
		res, err := h.Conn.Run(ctx, fmt.Sprintf("sha256sum %s 2>/dev/null | cut -c1-64; cat %s 2>/dev/null",
			engine.Quote(p.Live), engine.Quote(p.Want)))
		if err != nil {
			return nil, "", "", err
		}
		f := strings.Fields(res.Stdout)
		if len(f) == 2 && f[0] != f[1] {
			return h, f[0], f[1], nil
		}
	}
	return nil, "", "", nil
}

// sampleSessions reads up to sampleSize session blobs, spread over the
// memcached nodes, with get only.
func (e *SSH) sampleSessions(ctx context.Context) ([]appgate.Sample, error) {
	nodes := e.MemcachedHosts()
	var out []appgate.Sample
	for i, m := range nodes {
		quota := (sampleSize - len(out)) / (len(nodes) - i)
		err := e.withMemcache(ctx, m, func(mc *memcache.Memcache) error {
			keys, err := mc.Keys(ctx)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if quota == 0 {
					break
				}
				v, _, found, err := mc.Get(ctx, k.Key)
				if err != nil {
					return err
				}
				if found { // gone since the listing: expired or replaced
					out = append(out, appgate.Sample{Key: k.Key, Value: v})
					quota--
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// keepLive writes, on every Tomcat host, the live version of p as the
// wanted one.
func (e *SSH) keepLive(ctx context.Context, p playbooks.AppPlace) error {
	for _, t := range e.Tomcats() {
		h := e.host(t)
		res, err := h.Conn.Run(ctx, fmt.Sprintf(`l=$(sha256sum %s 2>/dev/null | cut -c1-64) && [ -n "$l" ] && echo "$l" > %s`,
			engine.Quote(p.Live), engine.Quote(p.Want)))
		if err != nil {
			return err
		}
		if !res.OK() {
			return res.ExitError(t + ": keep the live version wanted")
		}
	}
	return nil
}

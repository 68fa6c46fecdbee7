package rollout

import (
	"context"
	"time"

	"github.com/clusterctl/clusterctl/internal/engine"
)

// Env is everything the rollout's rules read from and do to a cluster.
// Production runs it over SSH (newSSHEnv); the rules' unit tests run it
// in-process against a fake whose state they can inspect at every step.
// Each method is one action at one boundary of the rollout, so a run cut
// anywhere leaves the hosts between two of them.
type Env interface {
	// Proxies, Tomcats and MemcachedHosts name the hosts the rollout
	// works on, in inventory order.
	Proxies() []string
	Tomcats() []string
	MemcachedHosts() []string

	// Upstreams reads what a proxy actually serves from: each upstream of
	// its rendered nginx.conf with the Tomcats in it, a Tomcat whose
	// drained marker is set counting as down even where the file does not
	// say so yet (a drain cut between the two).
	Upstreams(ctx context.Context, proxy string) (map[string][]Member, error)
	// Ready looks once (wait 0) or waits, bounded by wait on the wall
	// clock, until tomcat serves as users need it.
	Ready(ctx context.Context, tomcat string, wait time.Duration) error
	// Drain marks tomcat down at proxy and waits, bounded by wait, until
	// no request to it is in flight there; repeated, it reloads and waits
	// again. Undrain puts it back.
	Drain(ctx context.Context, proxy, tomcat string, wait time.Duration) error
	Undrain(ctx context.Context, proxy, tomcat string) error
	RestartTomcat(ctx context.Context, tomcat string) error
	// CheckApps decides, before any Tomcat restarts, whether the app
	// versions a restart would put live can read the sessions the running
	// ones wrote, and back (internal/appgate); an error stops the rollout
	// before anything is drained or restarted.
	CheckApps(ctx context.Context) error
	// CheckLive is the live session check on the canary: tomcat was just
	// restarted and is still drained; for each app it serves in a version
	// one of serving does not, a session made on each side must be read by
	// the other. A refusal puts the version serving runs back as the
	// wanted one on every Tomcat host, and is an error.
	CheckLive(ctx context.Context, tomcat string, serving []string) error
	// Gate passes once the cluster is whole: for tomcat "" every Tomcat
	// can read every other's sessions on every memcached node it may be
	// asked to read from; otherwise the other Tomcats can take over
	// tomcat's sessions. It heals spymemcached's stuck connections while it
	// waits, and first of all when afterMemcached (a memcached restarted).
	Gate(ctx context.Context, tomcat string, afterMemcached bool) (GateResult, error)
	// ClearPending clears a deferred handler's marker once its restart is
	// done.
	ClearPending(ctx context.Context, host string, d engine.Deferred) error

	// The memcached hand-over, one boundary per method. Dump writes every
	// key to a file on the host (it survives this run); RestartMemcached
	// first catches up with what was written since the dump and restarts
	// only if nothing changed after that; Restore writes the keys back
	// (a key written anew wins), says if they did not fit, and removes
	// the file. HandoverLeft tells whether an earlier run left a dump.
	HandoverLeft(ctx context.Context, host string) (bool, error)
	Dump(ctx context.Context, host string) error
	RestartMemcached(ctx context.Context, host string) error
	Restore(ctx context.Context, host string) (RestoreInfo, error)
	// Discard removes a dump whose memcached was never restarted: its
	// keys are all still there.
	Discard(ctx context.Context, host string) error
}

// Member is one Tomcat in an upstream, as the proxy has it.
type Member struct {
	Tomcat string
	Down   bool
}

// GateResult is how a Gate got to its verdict.
type GateResult struct {
	Took   time.Duration
	Checks int // 1: whole at once
	Heals  int // rounds in which a heal closed something
}

// RestoreInfo is what a Restore did.
type RestoreInfo struct {
	Added     int // written back
	Kept      int // already written anew by MSM: the newer copy kept
	Expired   int // expired meanwhile (on the host's clock)
	Evicted   int // written back but pushed out again: memory_mb too small
	NotNeeded bool
}

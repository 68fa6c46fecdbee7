// Package verify proves a cluster built by apply works, the way the seed's
// author did by hand (refresh a page, read session ids) but unattended:
//
//   - health: read-only checks per host, each named, ok or failed with a
//     one-line reason an operator can act on (checks.go, health_*.go);
//   - drill: a session is created through the proxy and followed while a
//     memcached and then a Tomcat are stopped; every disruption is undone
//     at the end, also on failure or interruption (drill*.go).
//
// Everything is reached through the hosts' SSH connections: commands via
// remote.Conn, TCP (memcached, Tomcat's port, nginx) via TCPDialer tunnels
// opened FROM a host, so verify sees what the cluster's hosts see and works
// when the operator's machine has no route to the cluster. Judgements are
// made against real memcached-session-manager 2.3.x behaviour (sticky mode,
// ids <hex>-<node>.<jvmRoute>, one key per session), see docs/msm.md.
package verify

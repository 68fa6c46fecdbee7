// Package lab runs the project's local lab: real Debian hosts on this one
// machine that clusterctl can apply the cluster to, reachable only over a
// private bridge.
//
// # Shape
//
// One Linux bridge, br-lab = 10.250.0.1/24, on the outside. Each host gets
//
//   - a network namespace lab-<name> holding eth0 (the inner end of a veth
//     pair whose outer end, also called lab-<name>, is a port of br-lab) with
//     its address/24 and a default route via 10.250.0.1;
//   - its own root tree: an overlayfs whose lower layer is the shared
//     debootstrap rootfs in the cache and whose upper layer is per host
//     (<cache>/machines/<name>); overlay beats `cp -a` of the ~300 MB tree by
//     seconds per host on this machine kind (ext4, no reflinks);
//   - a systemd-nspawn process booting that tree (real systemd as PID 1) in
//     that namespace, started in its own session so it outlives the Go
//     process; its console goes to <cache>/run/console/<name>.log. Each
//     nspawn runs in its own cgroup, clusterctl-lab/<name> (see cgroup.go:
//     hosts sharing one would break each other's units).
//
// Hosts and addresses: proxy = 10.250.0.8, Tomcat hosts t58 = .58, t68 = .68
// and, when Options.Tomcats > 2, t78, t88, ... (name "t" + last octet, ten
// apart), at most 20 Tomcat hosts so every address stays below .255.
//
// apt-cacher-ng, started by hand with a minimal config and bound to
// 10.250.0.1:3142 only, is the hosts' one way to Debian's archive; its cache
// (<cache>/apt-cacher-ng) survives `down` so repeated runs are fast. IP
// forwarding stays off and there is no NAT: hosts reach nothing but the
// bridge.
//
// Up writes to Options.Dir (default ./lab): inventory.yaml (the shipped
// inventory with lab addresses, keys and artifacts), id_ed25519(.pub) (a fresh
// lab key) and known_hosts (the hosts' freshly generated host keys, so no
// trust-on-first-use is needed).
//
// # Lifecycle
//
// Only one lab runs on a machine: its names (br-lab, lab-*) are global.
// Up always runs Down first, and Down finds what to remove by naming
// convention (netns lab-*, links lab-*, br-lab, overlay mounts whose source is
// "clusterctl-lab", cgroups under clusterctl-lab/, nspawn processes whose network namespace is
// /run/netns/lab-*, apt-cacher-ng processes bound to 10.250.0.1), not only by
// the state file, so it cleans up after a half-finished Up and is safe to run
// twice. Down keeps the rootfs and apt caches.
//
// # Network safety
//
// Hosts get CAP_NET_ADMIN so that a host can run a firewall (the e2e tests
// start firewalld on one, as on a stock RHEL). The capability acts on the
// host's own network namespace only; br-lab itself has IPv4 forwarding off
// and IPv6 disabled (network.go), so the outer machine routes nothing that
// comes from the bridge, even where its global forwarding is on, and a
// host still reaches nothing but the bridge, whatever it does to its own
// routes.
//
// # Clock safety
//
// Hosts get CAP_SYS_TIME so chrony's unit (ConditionCapability=CAP_SYS_TIME)
// starts, but the clock is not namespaced: a container stepping or slewing
// it would change the outer machine's clock. So nspawn denies the syscalls
// that set the clock, and each host has a chrony drop-in that runs chronyd
// with -x (track time and serve it, never touch the clock).
package lab

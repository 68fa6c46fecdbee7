package lab

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// The lab network is built with iproute2, the tool an operator would use to
// inspect or repair it. The machine's forwarding and NAT settings are never
// touched: hosts reach the bridge address and each other, nothing else.

func setupBridge(ctx context.Context) error {
	for _, args := range [][]string{
		{"link", "add", BridgeName, "type", "bridge"},
		{"addr", "add", fmt.Sprintf("%s/%d", BridgeAddress, prefixLen), "dev", BridgeName},
		{"link", "set", BridgeName, "up"},
	} {
		if _, err := run(ctx, "ip", args...); err != nil {
			return fmt.Errorf("lab: bridge: %w", err)
		}
	}
	return closeBridge()
}

// bridgeNoForward is the bridge's own IPv4 forwarding switch: with it off
// the kernel forwards nothing that arrives on br-lab, even on a machine
// whose global forwarding is on (a Docker host), so a lab host that sets
// itself a route (it has CAP_NET_ADMIN) still reaches nothing beyond the
// bridge. It goes away with the bridge. IPv6 is turned off on the bridge
// for the same reason (the lab is IPv4 only).
var bridgeNoForward = map[string]string{
	"/proc/sys/net/ipv4/conf/" + BridgeName + "/forwarding":   "0",
	"/proc/sys/net/ipv6/conf/" + BridgeName + "/disable_ipv6": "1",
}

func closeBridge() error {
	for p, v := range bridgeNoForward {
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			if strings.Contains(p, "ipv6") && os.IsNotExist(err) {
				continue // a kernel without IPv6 has nothing to close
			}
			return fmt.Errorf("lab: bridge: %w", err)
		}
	}
	return nil
}

// setupHostNetwork gives h its namespace and a veth whose outer end is a
// bridge port and whose inner end is the host's eth0. The peer is created
// directly inside the namespace so it never clashes with the outer eth0.
func setupHostNetwork(ctx context.Context, h Host) error {
	ns := h.netns()
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"link", "add", h.vethName(), "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", h.vethName(), "master", BridgeName, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s/%d", h.Address, prefixLen), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		// Nothing routes beyond the bridge (forwarding is off), but a default
		// route makes "no route to host" into a plain timeout like a real LAN.
		{"-n", ns, "route", "add", "default", "via", BridgeAddress},
	} {
		if _, err := run(ctx, "ip", args...); err != nil {
			return fmt.Errorf("lab: network for %s: %w", h.Name, err)
		}
	}
	return nil
}

// setLink brings the outer end of a host's veth down or up: the host keeps
// running but drops off (or returns to) the network, like a pulled cable.
func setLink(ctx context.Context, h Host, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	if _, err := run(ctx, "ip", "link", "set", h.vethName(), state); err != nil {
		return fmt.Errorf("lab: link %s %s: %w", h.Name, state, err)
	}
	return nil
}

// labNetns lists namespaces named lab-*, whoever created them.
func labNetns() []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), netnsPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// labLinks lists outer interfaces that belong to the lab: br-lab and lab-*.
func labLinks() []string {
	entries, _ := os.ReadDir("/sys/class/net")
	var out []string
	for _, e := range entries {
		if e.Name() == BridgeName || strings.HasPrefix(e.Name(), netnsPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// teardownNetwork deletes every lab namespace and link. Deleting a namespace
// also deletes the veth inside it and so its outer peer, but the kernel does
// that asynchronously: a link may vanish between listing and deleting it
// (fine), and Down waits until none is left so callers can check at once.
func teardownNetwork(ctx context.Context) error {
	var errs []string
	for _, ns := range labNetns() {
		if _, err := run(ctx, "ip", "netns", "delete", ns); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, l := range labLinks() {
		if _, err := run(ctx, "ip", "link", "delete", l); err != nil && linkExists(l) {
			errs = append(errs, err.Error())
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(labLinks()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := labLinks(); len(left) > 0 {
		errs = append(errs, "links still present: "+strings.Join(left, ", "))
	}
	if len(errs) > 0 {
		return fmt.Errorf("lab: network teardown: %s", strings.Join(errs, "; "))
	}
	return nil
}

func linkExists(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}

package verify

import (
	"fmt"
	"strings"
)

// reachHint is the advice that goes with a failed connection to a port on
// host. "No route to host" between hosts on one subnet is what a firewall's
// reject (ICMP admin-prohibited, firewalld's default) looks like, and a
// timeout what a silent drop looks like: for those the advice is the
// firewall; otherwise (refused: nothing listens) it is fallback.
func reachHint(err error, host, fallback string) string {
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "no route to host") || strings.Contains(msg, "timeout") || strings.Contains(msg, "timed out") ||
		strings.Contains(msg, "deadline exceeded") {
		return fmt.Sprintf("a firewall on %s may reject it: clusterctl apply opens the port where firewalld or ufw is active, otherwise check nft list ruleset there; or %s", host, fallback)
	}
	return fallback
}

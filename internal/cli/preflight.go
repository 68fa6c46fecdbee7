package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/phase"
	"github.com/clusterctl/clusterctl/internal/preflight"
)

func newPreflightCommand(g *phase.Options) *cobra.Command {
	return &cobra.Command{
		Use:   "preflight",
		Short: "Check, read-only, that every host can take an apply",
		Long: `preflight runs the checks apply, restart and teardown run before they change
anything, and changes nothing itself: SSH and the host key, a supported OS
release, systemd as PID 1, root without a prompt, the inventory address being
the host's own, the cluster's ports free or held by the unit clusterctl
manages, no distribution Tomcat, free disk for the tarballs, the package
manager not locked by another process, and the hosts' clocks agreeing.

A failed check prints what was found and what to do. --skip-preflight NAME
(repeatable) leaves a check out, here and in apply, restart and teardown.
Checks: ` + strings.Join(preflight.Checks, ", ") + `.

Environment: CLUSTERCTL_PREFLIGHT_LOCK_WAIT (default 1m) is how long a held
package manager lock is waited for; CLUSTERCTL_PREFLIGHT_MIN_FREE_MB (default
256) is what must stay free after the tarballs.`,
		Example: `  clusterctl preflight
  clusterctl apply --skip-preflight address   # hosts behind NAT
  clusterctl preflight -o json | jq 'select(.status == "failed")'`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return phase.Preflight(g) },
	}
}

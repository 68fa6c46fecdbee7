package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/lab"
	"github.com/clusterctl/clusterctl/internal/phase"
)

// EnvMSMJars names the default of `lab up --msm-jars`, so CI and make
// targets can select real MSM without a flag at every call.
const EnvMSMJars = "CLUSTERCTL_MSM_JARS"

// labRefuses are the global flags the lab cannot honour.
var labRefuses = []string{"inventory", "hosts", "dry-run", "diff", "output", "parallel", "accept-new-host-keys",
	"force-unlock", "skip-preflight", "connect-timeout", "unsafe-no-drain", "pause-after-dump"}

// newLabCommand is `clusterctl lab up|down|status`: the seed's three hosts
// as systemd-nspawn containers on this machine (Linux, root).
func newLabCommand(_ *phase.Options) *cobra.Command {
	var opts lab.Options
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run the whole cluster lab on this Linux machine (systemd-nspawn, root)",
		Long: `lab builds the seed's hosts (proxy, t58, t68) as systemd-nspawn containers with
real systemd and sshd, on a private bridge br-lab (10.250.0.0/24) that reaches
nothing else, and writes lab/inventory.yaml, an SSH key and known_hosts for
them. Packages reach the hosts through an apt proxy on the bridge address.`,
		Example: `  sudo clusterctl lab up
  sudo clusterctl -i lab/inventory.yaml apply
  sudo clusterctl lab status
  sudo clusterctl lab down`,
	}
	// The lab works on this machine, not on an inventory's hosts: a global
	// flag it cannot honour is refused, never ignored (`lab down --dry-run`
	// would otherwise really take the lab down).
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		var given []string
		for _, name := range labRefuses {
			if c.Flags().Changed(name) {
				given = append(given, "--"+name)
			}
		}
		// Their variables too, but for the inventory's, which a shell
		// keeps for the cluster it works on and the lab never reads.
		given = append(given, setByEnv(slices.DeleteFunc(slices.Clone(labRefuses), func(n string) bool { return n == "inventory" }))...)
		if len(given) > 0 {
			return usageError(fmt.Errorf("lab %s does not take %s: it works on this machine only, and has no dry run", c.Name(), strings.Join(given, ", ")))
		}
		return nil
	}
	cmd.PersistentFlags().StringVar(&opts.Dir, "dir", "lab", "where the lab inventory, key and known_hosts are written")
	cmd.PersistentFlags().StringVar(&opts.CacheDir, "cache-dir", "", "rootfs, apt cache and host trees (default ~/.cache/clusterctl/lab)")

	up := &cobra.Command{
		Use:     "up",
		Short:   "Create and boot the lab hosts (tears down leftovers first)",
		Example: "  sudo clusterctl lab up --tomcats 3",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := phase.SignalContext()
			defer stop()
			opts.Log = cmd.ErrOrStderr()
			start := time.Now()
			l, err := lab.Up(ctx, opts)
			var bad *lab.OptionError
			if errors.As(err, &bad) {
				return usageError(err)
			}
			if err != nil {
				return phase.HostsFailed(err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "lab up in %.1fs: %d hosts\n", time.Since(start).Seconds(), len(l.Hosts))
			fmt.Fprintf(w, "msm:       %s\n", l.Artifacts.MSMSummary())
			fmt.Fprintf(w, "inventory: %s\nnext:      clusterctl -i %s apply\n", l.Inventory, l.Inventory)
			return nil
		},
	}
	up.Flags().IntVar(&opts.Tomcats, "tomcats", 2, "number of Tomcat/memcached hosts (2..20)")
	up.Flags().StringVar(&opts.MSMJars, "msm-jars", os.Getenv(EnvMSMJars),
		"directory with real MSM jars (memcached-session-manager-<v>.jar and -tc9-<v>.jar) to run instead of the stand-in (default $"+EnvMSMJars+")")

	down := &cobra.Command{
		Use:     "down",
		Short:   "Stop and remove every lab host, namespace, bridge and process (safe to repeat)",
		Example: "  sudo clusterctl lab down",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Log = cmd.ErrOrStderr()
			if err := lab.Down(context.Background(), opts); err != nil {
				return phase.HostsFailed(err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "lab down")
			return nil
		},
	}

	status := &cobra.Command{
		Use:     "status",
		Short:   "Show each lab host, its address and whether sshd answers",
		Example: "  sudo clusterctl lab status",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sts, err := lab.Status(ctx, opts)
			if err != nil {
				return phase.HostsFailed(err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tADDRESS\tRUNNING\tSSH")
			down := 0
			for _, s := range sts {
				ssh := "no"
				switch {
				case s.SSH:
					ssh = "ok"
				case s.SSHError != "":
					ssh = "no: " + s.SSHError
				}
				if !s.SSH {
					down++
				}
				fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", s.Name, s.Address, s.Running, ssh)
			}
			tw.Flush()
			if l, err := lab.Load(opts); err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "msm: %s\n", l.Artifacts.MSMSummary())
			}
			if down > 0 {
				return phase.HostsFailed(fmt.Errorf("%d of %d lab hosts not answering SSH", down, len(sts)))
			}
			return nil
		},
	}
	cmd.AddCommand(up, down, status)
	return cmd
}

// Package cli is clusterctl's command line: cobra commands and flags,
// parsed into phase.Options; what a command does on hosts is its list of
// phases in internal/phase. It holds no engine logic of its own.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/inventory"
	"github.com/clusterctl/clusterctl/internal/phase"
	"github.com/clusterctl/clusterctl/internal/preflight"
)

// Exit codes, documented in README.md and `clusterctl --help`.
const (
	ExitOK         = phase.ExitOK
	ExitHostFailed = phase.ExitHostFailed
	ExitUsage      = phase.ExitUsage
)

func usageError(err error) error { return phase.UsageError(err) }

// Main runs clusterctl with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root, g := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	g.Close()
	if err == nil {
		return ExitOK
	}
	var ee *phase.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil && ee.Err.Error() != "" {
			fmt.Fprintln(stderr, "Error:", ee.Err)
		}
		return ee.Code
	}
	// Anything cobra itself rejects (unknown flag, wrong args) is usage.
	fmt.Fprintln(stderr, "Error:", err)
	return ExitUsage
}

func newRootCommand(stdout, stderr io.Writer) (*cobra.Command, *phase.Options) {
	g := &phase.Options{Stderr: stderr}
	root := &cobra.Command{
		Use:   "clusterctl",
		Short: "Build, verify and remove a Tomcat + memcached session cluster over SSH",
		Long: `clusterctl reproduces the classic nginx + Tomcat + memcached-session-manager
(MSM, sticky mode) session cluster on real hosts over SSH, proves that sessions
survive the loss of a memcached and of a Tomcat, and removes it again.

Every host is described in an inventory file (default ./inventory.yaml).

Every global flag can also be set by its environment variable, CLUSTERCTL_ and
its name in upper case ("-" as "_"): CLUSTERCTL_OUTPUT=json. The command line
wins; --force-unlock is never read from the environment.

Exit codes: 0 all good, 1 a host failed, 2 bad usage, a bad inventory or a
refused change (nothing was changed on any host; only the refusal of a
disruptive change has read the hosts first).`,
		Example: `  clusterctl apply --dry-run --diff     # what would change, and how
  clusterctl apply                      # converge every host
  clusterctl verify                     # health checks, then a failover drill
  clusterctl lab up && clusterctl -i lab/inventory.yaml apply`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)

	f := root.PersistentFlags()
	defInv := "inventory.yaml"
	if v := os.Getenv(EnvInventory); v != "" {
		defInv = v
	}
	f.StringVarP(&g.Inventory, "inventory", "i", defInv, "inventory file (default $"+EnvInventory+", else ./inventory.yaml)")
	f.StringSliceVar(&g.Hosts, "hosts", nil, "limit to these inventory hosts (comma separated names)")
	f.BoolVar(&g.DryRun, "dry-run", false, "connect and check, change nothing, say what would change")
	f.BoolVar(&g.Diff, "diff", false, "show a unified diff for every file that changes")
	f.StringVarP(&g.Output, "output", "o", "text", "output format: text or json (NDJSON events)")
	f.StringVar(&g.Color, "color", "auto", "colour in text output: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always, never")
	f.BoolVarP(&g.Verbose, "verbose", "v", false, "also print steps that were already in state")
	f.IntVar(&g.Parallel, "parallel", 10, "hosts worked on at the same time")
	f.BoolVar(&g.AcceptNewHostKeys, "accept-new-host-keys", false, "trust and record host keys not yet in known_hosts (never changed ones)")
	f.BoolVar(&g.ForceUnlock, "force-unlock", false, "take over the run lock even from a run that looks alive (only when you know it is gone)")
	f.BoolVar(&g.UnsafeNoDrain, "unsafe-no-drain", false, "roll restarts without draining them at the proxies (only to show what users see without the drain)")
	f.BoolVar(&g.PauseAfterDump, "pause-after-dump", false, "hold the rollout after each memcached dump until a line is read from stdin (to test what is written meanwhile)")
	for _, hidden := range []string{"unsafe-no-drain", "pause-after-dump"} {
		if err := f.MarkHidden(hidden); err != nil {
			panic(err)
		}
	}
	f.StringSliceVar(&g.SkipPreflight, "skip-preflight", nil, "leave out these preflight checks (see clusterctl preflight --help)")
	f.DurationVar(&g.ConnectTimeout, "connect-timeout", 0, "SSH connect timeout (default: the inventory's ssh.connect_timeout)")

	// Shell completion (clusterctl completion bash|zsh|fish) offers the
	// inventory's host names for --hosts and the valid values of the
	// enumerated flags.
	complete := func(name string, values func() []string) {
		if err := root.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values(), cobra.ShellCompDirectiveNoFileComp
		}); err != nil {
			panic(err)
		}
	}
	complete("hosts", func() []string {
		inv, err := inventory.Load(g.Inventory)
		if err != nil {
			return nil
		}
		var names []string
		for _, h := range inv.AllHosts() {
			names = append(names, h.Name)
		}
		return names
	})
	complete("output", func() []string { return []string{"text", "json"} })
	complete("color", func() []string { return []string{"auto", "always", "never"} })
	complete("skip-preflight", func() []string { return preflight.Checks })

	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		g.Command, g.Stdout, g.Stderr, g.Stdin = cmd.CommandPath(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.InOrStdin()
		fromEnv, err := flagsFromEnv(root.PersistentFlags())
		if err != nil {
			return err
		}
		// A bad value names where it came from: the flag, or its variable.
		flag := func(name string) string {
			if v, ok := fromEnv[name]; ok {
				return v + " (--" + name + ")"
			}
			return "--" + name
		}
		if g.Output != "text" && g.Output != "json" {
			return usageError(fmt.Errorf("%s must be text or json, not %q", flag("output"), g.Output))
		}
		if g.Color != "auto" && g.Color != "always" && g.Color != "never" {
			return usageError(fmt.Errorf("%s must be auto, always or never, not %q", flag("color"), g.Color))
		}
		if g.Parallel < 1 {
			return usageError(fmt.Errorf("%s must be at least 1", flag("parallel")))
		}
		if g.ConnectTimeout < 0 {
			return usageError(fmt.Errorf("%s must not be negative, got %s", flag("connect-timeout"), g.ConnectTimeout))
		}
		return nil
	}

	root.AddCommand(
		newInitCommand(g),
		newApplyCommand(g),
		newRestartCommand(g),
		newRollbackCommand(g),
		newVerifyCommand(g),
		newStatusCommand(g),
		newPreflightCommand(g),
		newTeardownCommand(g),
		newLabCommand(g),
		newInventoryCommand(),
		newVersionCommand(),
	)
	root.AddCommand(newManCommand(root))
	return root, g
}

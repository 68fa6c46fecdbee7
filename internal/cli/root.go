// Package cli is clusterctl's command line: cobra commands and flags, and
// the wiring from an inventory through SSH connections to the task engine
// and the output renderers. It holds no engine logic of its own.
package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterctl/clusterctl/internal/sshsettings"
	"github.com/clusterctl/clusterctl/internal/transport"
)

// Exit codes, documented in README.md and `clusterctl --help`.
const (
	ExitOK         = 0 // every host converged / passed
	ExitHostFailed = 1 // at least one host failed (the recap names it)
	ExitUsage      = 2 // bad usage or a bad inventory: nothing was contacted
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	inventory         string
	hosts             []string
	dryRun            bool
	diff              bool
	output            string
	verbose           bool
	parallel          int
	acceptNewHostKeys bool
	connectTimeout    time.Duration
	skipPreflight     []string
	forceUnlock       bool
	unsafeNoDrain     bool      // hidden: the rollout without drains, for the test that shows what they prevent
	pauseAfterDump    bool      // hidden: hold the rollout after each memcached dump until a line on stdin, for the test of writes in between
	stderr            io.Writer // for notices that are no error

	// reach is how each host of the inventory is connected to, derived
	// by loadInventory before any host is contacted.
	reach map[string]sshsettings.Host
	// jumps are the command's bastion connections, one per bastion for the
	// whole command (every dial of hosts and --load's HTTP share them);
	// Main closes them after the command returns.
	jumps *transport.Jumps
}

// bastions is the command's shared bastion connections.
func (g *globalOptions) bastions() *transport.Jumps {
	if g.jumps == nil {
		g.jumps = transport.NewJumps()
	}
	return g.jumps
}

// exitError carries an exit code up to Main; its message is printed once.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error  { return &exitError{code: ExitUsage, err: err} }
func hostsFailed(err error) error { return &exitError{code: ExitHostFailed, err: err} }

// Main runs clusterctl with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root, g := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	g.jumps.Close()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "Error:", ee.err)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown flag, wrong args) is usage.
	fmt.Fprintln(stderr, "Error:", err)
	return ExitUsage
}

func newRootCommand(stdout, stderr io.Writer) (*cobra.Command, *globalOptions) {
	g := &globalOptions{stderr: stderr}
	root := &cobra.Command{
		Use:   "clusterctl",
		Short: "Build, verify and remove a Tomcat + memcached session cluster over SSH",
		Long: `clusterctl reproduces the classic nginx + Tomcat + memcached-session-manager
(MSM, sticky mode) session cluster on real hosts over SSH, proves that sessions
survive the loss of a memcached and of a Tomcat, and removes it again.

Every host is described in an inventory file (default ./inventory.yaml).

Exit codes: 0 all good, 1 a host failed, 2 bad usage or bad inventory.`,
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
	f.StringVarP(&g.inventory, "inventory", "i", "inventory.yaml", "inventory file")
	f.StringSliceVar(&g.hosts, "hosts", nil, "limit to these inventory hosts (comma separated names)")
	f.BoolVar(&g.dryRun, "dry-run", false, "connect and check, change nothing, say what would change")
	f.BoolVar(&g.diff, "diff", false, "show a unified diff for every file that changes")
	f.StringVarP(&g.output, "output", "o", "text", "output format: text or json (NDJSON events)")
	f.BoolVarP(&g.verbose, "verbose", "v", false, "also print steps that were already in state")
	f.IntVar(&g.parallel, "parallel", 10, "hosts worked on at the same time")
	f.BoolVar(&g.acceptNewHostKeys, "accept-new-host-keys", false, "trust and record host keys not yet in known_hosts (never changed ones)")
	f.BoolVar(&g.forceUnlock, "force-unlock", false, "take over the run lock even from a run that looks alive (only when you know it is gone)")
	f.BoolVar(&g.unsafeNoDrain, "unsafe-no-drain", false, "roll restarts without draining them at the proxies (only to show what users see without the drain)")
	f.BoolVar(&g.pauseAfterDump, "pause-after-dump", false, "hold the rollout after each memcached dump until a line is read from stdin (to test what is written meanwhile)")
	for _, hidden := range []string{"unsafe-no-drain", "pause-after-dump"} {
		if err := f.MarkHidden(hidden); err != nil {
			panic(err)
		}
	}
	f.StringSliceVar(&g.skipPreflight, "skip-preflight", nil, "leave out these preflight checks (see clusterctl preflight --help)")
	f.DurationVar(&g.connectTimeout, "connect-timeout", 0, "SSH connect timeout (default: the inventory's ssh.connect_timeout)")

	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.output != "text" && g.output != "json" {
			return usageError(fmt.Errorf("--output must be text or json, not %q", g.output))
		}
		if g.parallel < 1 {
			return usageError(fmt.Errorf("--parallel must be at least 1"))
		}
		if g.connectTimeout < 0 {
			return usageError(fmt.Errorf("--connect-timeout must not be negative, got %s", g.connectTimeout))
		}
		return nil
	}

	root.AddCommand(
		newApplyCommand(g),
		newRestartCommand(g),
		newRollbackCommand(g),
		newVerifyCommand(g),
		newPreflightCommand(g),
		newTeardownCommand(g),
		newLabCommand(g),
		newVersionCommand(),
	)
	return root, g
}

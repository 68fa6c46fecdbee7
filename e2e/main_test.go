//go:build e2e

package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cli"
	"github.com/clusterctl/clusterctl/internal/lab"
)

// The test binary runs twice: a parent that owns the lab (up before, down
// after) and a child, the same binary re-executed, that runs the tests.
// A test that panics or times out kills only the child, so the parent's
// teardown always runs; SIGINT/SIGTERM are forwarded to the child and the
// parent tears down after it. Only a SIGKILL of the parent leaves the lab
// up, and the next `lab up` cleans that.
const (
	envChild   = "CLUSTERCTL_E2E_CHILD"
	envDir     = "CLUSTERCTL_E2E_LAB_DIR"
	envKeepLab = "E2E_KEEP_LAB"
)

// testLab is the running lab, loaded in the child.
var (
	testLab *lab.Lab
	labOpts lab.Options
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run()) // listing tests needs no lab
	}
	if os.Getenv(envChild) != "" {
		os.Exit(runChild(m))
	}
	os.Exit(runParent())
}

func runChild(m *testing.M) int {
	labOpts = lab.Options{Dir: os.Getenv(envDir), MSMJars: os.Getenv(cli.EnvMSMJars)}
	l, err := lab.Load(labOpts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	testLab = l
	recordPristine()
	return m.Run()
}

func runParent() int {
	dir, err := os.MkdirTemp("", "clusterctl-e2e-lab-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	// $CLUSTERCTL_MSM_JARS (set by the Makefile where ../shared/msm exists)
	// makes the whole suite run real MSM; TestStandInLab keeps the stand-in
	// path covered either way.
	opts := lab.Options{Dir: dir, Log: os.Stderr, MSMJars: os.Getenv(cli.EnvMSMJars)}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	teardown := func() {
		if os.Getenv(envKeepLab) != "" {
			fmt.Fprintf(os.Stderr, "e2e: %s set: lab left up, inventory %s\n", envKeepLab, dir+"/inventory.yaml")
			return
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer dcancel()
		if err := lab.Down(dctx, opts); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: lab down:", err)
		}
		os.RemoveAll(dir)
	}
	defer teardown() // also on a panic in the parent itself

	// A signal during Up cancels it; Up cleans up after itself.
	upDone := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-upDone:
		}
	}()
	start := time.Now()
	l, err := lab.Up(ctx, opts)
	close(upDone)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: lab up:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: lab up in %s\n", time.Since(start).Round(100*time.Millisecond))
	// On stdout, so it stands in the test log (and CI's) once, at the start.
	fmt.Printf("e2e: MSM under test: %s\n", l.Artifacts.MSMSummary())

	child := exec.Command(os.Args[0], os.Args[1:]...)
	child.Env = append(os.Environ(), envChild+"=1", envDir+"="+dir)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	go func() {
		for s := range sigs {
			child.Process.Signal(s)
		}
	}()
	err = child.Wait()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "e2e: tests:", err)
		return 1
	}
	return 0
}

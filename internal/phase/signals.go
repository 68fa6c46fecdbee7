package phase

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// interrupts is how a command that changes a live cluster takes SIGINT,
// SIGTERM and SIGHUP (a closed terminal): the first cancels soft, so the
// converge stops between steps and a rollout at its next safe point (the
// current host's step finished or undone); the second cancels hard, which
// aborts at once, leaving the next run to resume from what the hosts
// record. SIGPIPE is ignored meanwhile: when the terminal or the pipe
// reading our output goes away, the run must still reach a safe point
// rather than die on its next line of output.
type interrupts struct {
	soft, hard context.Context
	stop       func()
	stderr     io.Writer
	cancelSoft context.CancelFunc
}

// halt stops the run at its next safe point for a reason other than a
// signal (a lost run lock), as a first signal would.
func (i *interrupts) halt(why error) {
	if i.soft.Err() == nil {
		fmt.Fprintf(i.stderr, "clusterctl: %v: stopping at the next safe point\n", why)
	}
	i.cancelSoft()
}

func newInterrupts(stderr io.Writer) *interrupts {
	soft, cancelSoft := context.WithCancel(context.Background())
	hard, cancelHard := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	signal.Ignore(syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				n++
				if n == 1 {
					fmt.Fprintf(stderr, "clusterctl: %v: stopping at the next safe point (the current host's step is finished or undone); signal again to abort at once\n", s)
					cancelSoft()
					continue
				}
				fmt.Fprintf(stderr, "clusterctl: %v again: aborting now; the next run resumes from what the hosts record\n", s)
				cancelHard()
				return
			}
		}
	}()
	return &interrupts{soft: soft, hard: hard, stderr: stderr, cancelSoft: cancelSoft, stop: func() {
		signal.Stop(ch)
		signal.Reset(syscall.SIGPIPE)
		close(done)
		cancelSoft()
		cancelHard()
	}}
}

// SignalContext ends on SIGINT or SIGTERM: for commands without safe
// points (the lab, the verify drill's own undo).
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

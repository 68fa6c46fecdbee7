package engine

import (
	"context"
	"errors"
)

// Step is one unit of convergence. Title names it for people ("write
// /etc/hosts block") and is also the key a Notify refers to when the step is
// used as a handler.
type Step interface {
	Title() string
	// Check reads the host's state. A nil Change means "already in state".
	Check(ctx context.Context, h *Host) (*Change, error)
}

// Change is what Check found to differ and how to fix it.
type Change struct {
	Summary string // one line: what would change; never secret content
	Diff    string // unified diff shown with --diff; empty when not meaningful
	// Sensitive hides Diff behind HiddenDiff in every event, whatever the
	// step put there: one guard in the runner instead of one per sink.
	Sensitive bool
	Apply     func(ctx context.Context) error
	// Records say what the change does to the host, for teardown. The
	// runner stores them (and takes file backups) before Apply runs, so a
	// run killed half-way still leaves a journal that covers what it did.
	// Apply may append more (what it learned only by doing it, such as the
	// dependencies a package pulled in); the runner stores those after.
	Records []Record

	deferred bool // a Rolling Restart: reported, left pending, never applied by Run
}

// HiddenDiff replaces the diff of a sensitive change.
const HiddenDiff = "(content hidden)"

// SkipError reports from Check that a step does not apply to this host.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns the error a Check uses to report the step as skipped.
func Skip(reason string) error { return &SkipError{Reason: reason} }

func isSkip(err error) (string, bool) {
	var s *SkipError
	if errors.As(err, &s) {
		return s.Reason, true
	}
	return "", false
}

// When wraps step so that it is skipped on hosts where cond is false.
func When(cond func(*Host) bool, reason string, step Step) Step {
	return conditional{Step: step, cond: cond, reason: reason}
}

type conditional struct {
	Step
	cond   func(*Host) bool
	reason string
}

func (c conditional) Check(ctx context.Context, h *Host) (*Change, error) {
	if !c.cond(h) {
		return nil, Skip(c.reason)
	}
	return c.Step.Check(ctx, h)
}

func (c conditional) Notifies() []string { return notifiesOf(c.Step) }

// Notify wraps step so that, when it changes something, the named handlers
// of its play run once at the end of the play.
func Notify(step Step, handlers ...string) Step {
	return notifying{Step: step, handlers: append(notifiesOf(step), handlers...)}
}

type notifying struct {
	Step
	handlers []string
}

func (n notifying) Notifies() []string { return n.handlers }

func notifiesOf(s Step) []string {
	if n, ok := s.(interface{ Notifies() []string }); ok {
		return n.Notifies()
	}
	return nil
}

package engine

import (
	"context"
	"fmt"
)

// Command runs a shell command guarded by a state check, so that it runs
// only until its effect exists. Without Creates or Unless it runs every
// time (and therefore always reports changed): use it for handlers.
type Command struct {
	// Label says what the command is for. It is what events and errors
	// show: the command line itself is never reported, it may carry secrets.
	Label   string
	Cmd     string
	Creates string // skip when this path exists
	Unless  string // skip when this command exits 0
	// Sensitive also hides the command's output from errors.
	Sensitive bool
	// Undo is how teardown reverses what Cmd did (close a firewall port
	// apply opened). It is journalled only when Cmd runs, so teardown never
	// reverses what was already so before apply. UndoUnless guards it the
	// way Unless guards Cmd: teardown skips Undo when it exits 0.
	Undo, UndoUnless string
}

func (c Command) Title() string {
	if c.Label != "" {
		return c.Label
	}
	return "command"
}

func (c Command) createsCmd() string { return "test -e " + Quote(c.Creates) }

// Probes: the Creates test and the Unless guard (guards only read, as
// the dry run already relies on).
func (c Command) Probes(*Host) []string {
	var out []string
	if c.Creates != "" {
		out = append(out, c.createsCmd())
	}
	if c.Unless != "" {
		out = append(out, c.Unless)
	}
	return out
}

func (c Command) Check(ctx context.Context, h *Host) (*Change, error) {
	summary := "run"
	var recs []Record
	if c.Creates != "" {
		res, err := h.Conn.Run(ctx, c.createsCmd())
		if err != nil {
			return nil, fmt.Errorf("%s: check %s: %w", c.Title(), c.Creates, err)
		}
		if res.OK() {
			return nil, nil
		}
		summary = fmt.Sprintf("run (%s does not exist)", c.Creates)
		// Creates names what the command makes (an unpacked tree):
		// teardown removes it. Unless guards say nothing of what the
		// command touches, so they leave no record.
		recs = append(recs, Record{Kind: RecordCommandCreated, Path: c.Creates})
	}
	if c.Unless != "" {
		res, err := h.Conn.Run(ctx, c.Unless)
		if err != nil {
			return nil, fmt.Errorf("%s: guard: %w", c.Title(), err)
		}
		if res.OK() {
			return nil, nil
		}
		summary = fmt.Sprintf("run (guard exited %d)", res.ExitCode)
	}
	if c.Undo != "" {
		recs = append(recs, Record{Kind: RecordCommandRan, Name: c.Title(), Undo: c.Undo, UndoUnless: c.UndoUnless})
	}
	return &Change{
		Summary:   summary,
		Sensitive: c.Sensitive,
		Records:   recs,
		Apply: func(ctx context.Context) error {
			if c.Sensitive {
				return h.runQuiet(ctx, c.Title(), c.Cmd)
			}
			_, err := h.run(ctx, c.Title(), c.Cmd)
			return err
		},
	}, nil
}

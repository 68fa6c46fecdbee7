package engine

import (
	"context"
	"fmt"
	"strings"
)

// Group checks and applies several steps as one: one line of output, one
// change made of its members' changes in order, summarised as the titles of
// the members that change. It is for a number of like changes that depends
// on the host (a firewall rule per client host), where a play's fixed list
// of steps cannot have one step each.
type Group struct {
	Label string
	Steps []Step
}

func (g Group) Title() string { return g.Label }

func (g Group) Probes(h *Host) []string {
	var out []string
	for _, s := range g.Steps {
		out = append(out, probesOf(s, h)...)
	}
	return out
}

func (g Group) Check(ctx context.Context, h *Host) (*Change, error) {
	var parts []*Change
	var titles []string
	for _, s := range g.Steps {
		c, err := s.Check(ctx, h)
		if _, skipped := isSkip(err); skipped {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.Label, err)
		}
		if c != nil {
			parts = append(parts, c)
			titles = append(titles, s.Title())
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	merged := &Change{}
	var diffs []string
	for _, c := range parts {
		if c.Diff != "" {
			diffs = append(diffs, c.Diff)
		}
		merged.Sensitive = merged.Sensitive || c.Sensitive
		merged.Records = append(merged.Records, c.Records...)
	}
	merged.Summary = strings.Join(titles, "; ")
	merged.Diff = strings.Join(diffs, "")
	merged.Apply = func(ctx context.Context) error {
		for _, c := range parts {
			n := len(c.Records)
			err := c.Apply(ctx)
			// What a member learned by applying goes to the journal too.
			merged.Records = append(merged.Records, c.Records[n:]...)
			if err != nil {
				return err
			}
		}
		return nil
	}
	return merged, nil
}

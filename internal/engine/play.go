package engine

import (
	"fmt"
	"slices"
)

// Play is an ordered list of steps for the hosts it selects, plus the
// handlers those steps may notify.
type Play struct {
	Name string
	// Hosts selects the hosts the play runs on; nil means every host.
	Hosts func(*Host) bool
	Steps []Step
	// Handlers run at the end of the play, once each and in this order, when
	// at least one step that Notify-ed their Title changed something.
	Handlers []Step
}

// OnHosts selects hosts by inventory name.
func OnHosts(names ...string) func(*Host) bool {
	return func(h *Host) bool { return slices.Contains(names, h.Name()) }
}

// ValidatePlays catches wiring mistakes before any host is touched: a
// notify that names no handler would otherwise silently never restart
// anything.
func ValidatePlays(plays []Play) error {
	for _, p := range plays {
		handlers := map[string]bool{}
		for _, h := range p.Handlers {
			if h == nil {
				return fmt.Errorf("play %q: nil handler", p.Name)
			}
			if handlers[h.Title()] {
				return fmt.Errorf("play %q: two handlers titled %q", p.Name, h.Title())
			}
			handlers[h.Title()] = true
		}
		for _, s := range p.Steps {
			if s == nil {
				return fmt.Errorf("play %q: nil step", p.Name)
			}
			for _, n := range notifiesOf(s) {
				if !handlers[n] {
					return fmt.Errorf("play %q: step %q notifies %q, which is not a handler of the play", p.Name, s.Title(), n)
				}
			}
		}
	}
	return nil
}

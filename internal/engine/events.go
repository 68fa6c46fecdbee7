package engine

import (
	"sync"
	"time"
)

// EventType tells sinks which fields of an Event are meaningful.
type EventType string

const (
	EventRunStart  EventType = "run_start"  // Hosts, Plays, DryRun
	EventHostStart EventType = "host_start" // Host
	EventStepStart EventType = "step_start" // Host, Play, Step: a step (or handler) begins
	// EventStepProgress comes every ProgressInterval while a step runs:
	// Duration so far, and Summary "up to <bound>" for a step that waits.
	EventStepProgress EventType = "step_progress"
	EventStep         EventType = "step"      // Host, Play, Step, Status, Duration, Summary, Diff, Err, DryRun
	EventHandler      EventType = "handler"   // same fields as EventStep
	EventHostDone     EventType = "host_done" // Host, HostRecap
	EventRunRecap     EventType = "recap"     // Recap
)

// Event is one thing a run reports. One flat struct rather than a type per
// kind keeps sinks to a single switch and makes JSON field names uniform.
type Event struct {
	Type     EventType
	Time     time.Time
	Host     string
	Play     string
	Step     string
	Status   Status
	Duration time.Duration
	Summary  string
	Diff     string // only with Options.Diff; HiddenDiff for sensitive changes
	Err      error
	DryRun   bool // the change was only reported, not applied

	Hosts     []string   // EventRunStart: inventory names, in order
	Plays     []string   // EventRunStart: play names, in order
	HostRecap *HostRecap // EventHostDone
	Recap     *Recap     // EventRunRecap
}

// EventSink receives events. Run calls Emit from one goroutine per host, so
// implementations must be safe for concurrent use.
type EventSink interface {
	Emit(Event)
}

// SinkFunc adapts a function to EventSink; the function must be safe for
// concurrent use.
type SinkFunc func(Event)

func (f SinkFunc) Emit(e Event) { f(e) }

// MultiSink fans events out to several sinks, in order.
func MultiSink(sinks ...EventSink) EventSink {
	return SinkFunc(func(e Event) {
		for _, s := range sinks {
			s.Emit(e)
		}
	})
}

// Collector records events in memory (for tests and for callers that want
// the whole run afterwards).
type Collector struct {
	mu     sync.Mutex
	events []Event
}

func (c *Collector) Emit(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
}

// Events returns a copy of what was recorded so far.
func (c *Collector) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

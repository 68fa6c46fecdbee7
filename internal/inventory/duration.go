package inventory

import "time"

// Duration is a time.Duration written in the inventory as Go duration text
// ("10s", "1500ms"), so the unit is always explicit.
type Duration time.Duration

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Milliseconds is the value in whole milliseconds, MSM's unit.
func (d Duration) Milliseconds() int64 { return time.Duration(d).Milliseconds() }

// String is the same text Load accepts, e.g. "10s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML prints the duration as text, so EffectiveYAML can be loaded again.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

package engine

// Status is the outcome of one step or handler on one host.
type Status string

const (
	StatusOK      Status = "ok"      // already in the wanted state
	StatusChanged Status = "changed" // changed (or, in dry-run, would change)
	StatusFailed  Status = "failed"  // Check or Apply returned an error
	StatusSkipped Status = "skipped" // did not apply to this host
)

package phase

import (
	"io"

	"github.com/clusterctl/clusterctl/internal/loadgen"
	"github.com/clusterctl/clusterctl/internal/output"
	"github.com/clusterctl/clusterctl/internal/preflight"
	"github.com/clusterctl/clusterctl/internal/rollout"
)

// The NDJSON events the phases add to the engine's (output): their field
// names are part of the CLI's interface.

type preflightEvent struct {
	Type   string           `json:"type"` // "preflight"
	Host   string           `json:"host"`
	Check  string           `json:"check"`
	Status preflight.Status `json:"status"`
	Found  string           `json:"found"`
	Fix    string           `json:"fix"`
}

type rolloutEvent struct {
	Type               string          `json:"type"` // "rollout"
	MemcachedRestarted []string        `json:"memcached_restarted"`
	Restarted          []string        `json:"restarted"`
	Undrained          []string        `json:"undrained"`
	Resumed            []string        `json:"resumed"`
	Phases             []rollout.Phase `json:"phases"`
	Healed             int             `json:"healed"`
	Waited             int             `json:"waited"`
	Stopped            bool            `json:"stopped"`
	Left               []string        `json:"left"`
	FailedHost         string          `json:"failed_host"`
	Error              string          `json:"error"`
	DryRun             bool            `json:"dry_run"`
}

type loadEvent struct {
	Type   string         `json:"type"` // "load"
	Report loadgen.Report `json:"report"`
}

func writeEvent(w io.Writer, v any) { output.NewLines(w).Write(v) }

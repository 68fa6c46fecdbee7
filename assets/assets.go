// Package assets holds static files that clusterctl ships inside its
// binary.
package assets

import "embed"

// MSMStandIn holds the sources of the clusterctl MSM test double (see
// msm-standin/README.md): a lab-only stand-in for memcached-session-manager,
// compiled by internal/lab/artifacts at Prepare time.
//
//go:embed all:msm-standin
var MSMStandIn embed.FS

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

// Probe is the probe web application, deployed as the directory
// webapps/probe (context path /probe) on every Tomcat: probe/index.jsp
// counts requests in the session and answers one line of JSON for
// `clusterctl verify`; probe/demo.jsp is the seed's HTML test page. Paths in
// the FS start with "probe/".
//
//go:embed probe
var Probe embed.FS

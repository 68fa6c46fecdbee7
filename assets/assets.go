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

// SessionCheckJar is clusterctl's offline session-compatibility check
// (sessioncheck/SessionCheck.java, built by scripts/build-sessioncheck.sh):
// a Java 8 program run on a Tomcat host, before a new app version serves
// anyone, that decodes sampled session blobs with the new version's classes
// and MSM's own transcoder.
//
//go:embed sessioncheck/sessioncheck.jar
var SessionCheckJar []byte

// InventorySchema is the JSON Schema of inventory.yaml, generated from the
// inventory's schema types (internal/inventory's TestTheShippedSchemaIsCurrent
// keeps it current): `clusterctl inventory schema` prints it, and editors
// with a YAML language server validate an inventory against it.
//
//go:embed inventory.schema.json
var InventorySchema []byte

// Package inventory reads inventory.yaml: the hosts of the cluster, their
// roles, and the settings of every component (ssh, java, tomcat, memcached,
// memcached-session-manager, nginx).
//
// Load decodes strictly (unknown keys, wrong types and duplicate keys are
// errors), fills in defaults in exactly one place (applyDefaults in
// defaults.go) and then validates. Every problem is reported as an *Error
// carrying file, line, column and the field path, and all problems found are
// returned together as an ErrorList, so a user fixes the file in one pass.
//
// The decoder walks a yaml.Node tree instead of calling yaml.Unmarshal into the
// structs, because yaml.v3's struct decoding loses positions, silently accepts
// duplicate keys in some cases and stops at the first type error.
package inventory

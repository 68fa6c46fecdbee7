// Package output renders engine events for people (NewText: live lines and
// a recap table) and for programs (NewJSON: one JSON object per line).
// Every sink serialises its writes, so hosts running in parallel never
// interleave inside a line.
package output

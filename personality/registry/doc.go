// Package registry joins one log (package engine), its rules (package rules) and
// its state index (package state) into the write and query path of one registry.
//
// Submit is the serialisation point: one mutex per registry covers validating an
// entry against the state, appending it to the log, and applying it to the
// state. The state an entry was validated against is therefore exactly the state
// at its position in the log, which is what a replay computes, so live acceptance
// and replay always agree. The cost is that a registry appends one entry per
// engine batch at a time; submissions to different registries run in parallel.
package registry

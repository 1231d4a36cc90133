// Package rules is the pure rule engine of Tabularium's registries: given the
// state before an entry and the entry's position in the log, Apply decides
// whether the entry is valid and returns the state changes it makes.
//
// It does no I/O and reads no clock: the time it knows is the log time (the
// largest entry time accepted so far), and the state it reads comes through the
// State interface. The server runs it before appending an entry and again when it
// replays the log; an auditor runs the very same code (ApplyRaw on every logged
// entry, in order, starting from an empty Memory) and must obtain the same state.
//
// Every refusal is an *Error with a stable Code, a sentence a person can act on,
// and a Class that maps to an HTTP status.
package rules

// Package state keeps a registry's state index: the canonical encoding of every
// object's state (rules.Object), the log-wide rules.Meta and the entries refused
// on replay, in an embedded SQLite database (modernc.org/sqlite, pure Go, WAL;
// the default) or in a MySQL-compatible database (OpenMySQL). On the scale-out
// tier the front ends of a log share one index and take turns writing it under
// Lock.
//
// The index is a pure function of the log: CatchUp replays the log's entries
// from the index's next position through the rule engine (package rules), so an
// index that is lost is rebuilt by replaying from the start, and one that fell
// behind catches up. An entry that the log holds but that the rules refuse on
// replay (say it was written into storage directly) is recorded as rejected and
// skipped; it never stops the replay.
package state

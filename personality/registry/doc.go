// Package registry joins one log (package engine), its rules (package rules) and
// its state index (package state) into the write and query path of one registry.
//
// Submit is a pipelined sequencer. An entry's validity depends on every entry
// before it (role and key entries change who may sign later ones), so entries
// are judged one at a time, in log order, against the state at their position.
// But only that judgement is serialised:
//
//   - Parsing and verifying every signature (entry.Parse) happen in the
//     submitter's goroutine, before any lock; rules.Apply then only reads state.
//   - Under one mutex per registry, the rules judge the entry at the next
//     expected index against an overlay: the entries handed to the log but not
//     yet in the state index, by object, over the index, with the speculative
//     Meta. An accepted entry is handed to the log (engine.Log.Enqueue, which
//     does not wait), recorded as pending with its expected index, its changes
//     and its future, and applied to the overlay. The mutex is then released.
//   - One committer goroutine resolves the pending entries strictly in index
//     order and commits each run of confirmed ones to the index in one
//     transaction (group commit), drops the overlay entries the index has caught
//     up with, and answers the submitters.
//
// The log assigns indices in Enqueue order, so as long as every future resolves
// to its expected index, each entry was judged against exactly the state a
// replay computes at its position. When one does not — pushback, an I/O error,
// a duplicate, or an index taken by another writer — the chain is broken: the
// registry stops accepting, lets every pending future resolve, drops the overlay,
// replays the log into the index up to its integrated size exactly as an auditor
// would, and answers each pending submitter from that replay (the log's error;
// success; or ErrRejectedOnReplay). Then it resumes. Live state and replayed
// state therefore never differ.
//
// The pipeline assumes the registry is its log's only writer. On the scale-out
// tier several front ends share one log and one state index in a
// MySQL-compatible database: OpenShared replaces the pipeline with rounds
// under the index's database lock (see shared.go): catch up with the log,
// judge a group, append it, wait for its indices, commit it. The lock makes
// conflicting entries from different front ends be judged one after the other;
// position-checked commits (state.ErrStale) and the same replay keep the index
// equal to a replay of the log even if a lock is lost.
package registry

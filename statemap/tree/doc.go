// Package tree stores Tabularium's state map (docs/design/state-map.md): a
// sparse Merkle tree of depth 256 over the hashes of package statemap,
// versioned, in an SQL database (SQLite or MySQL-compatible) that it may share
// with the state index. Update computes each version from the one before with
// trillian's HStar3 batch algorithm (merkle/smt); Prove returns the map proof
// of a key's leaf or of its absence at any version still stored; Prune drops
// what only older versions need.
//
// Storage is compact: a tree of n keys stores its n leaves and its n-1 branch
// nodes (those with two non-empty children), never the 256 nodes of every
// path. Every other node is derived from them: the root of a subtree with no
// leaf is the empty hash of its depth, with one leaf that leaf folded up with
// empty siblings, with several the branch node where its first and last
// leaves part, folded up. The 2^16 subtrees at depth 16 (buckets) are read
// with one range query each; the tree above them is held in memory per
// version and rebuilt on open from the stored nodes at depth 16.
//
// A version is written in one transaction, so a crash leaves the previous
// version whole; rows are only ever added by updates, so reads at older
// versions see exactly what they saw before.
package tree

// Package statemap is the vocabulary of Tabularium's verifiable map of a
// registry's current state, as fixed in docs/design/state-map.md: map keys
// (public objects by id, credentials by id and document hash), the hashes of
// the sparse Merkle tree of depth 256 (leaves, interior nodes, empty subtrees),
// the binary map proof of a key's presence or absence, and the map entry that
// binds a map root to the input log's tree head as a leaf of the state log.
//
// The package does no I/O, reads no clock and keeps no state, so that the
// client, the server and a WebAssembly build share one verifier. Parsers are
// strict: each value has exactly one accepted encoding. The stored, versioned
// tree that computes roots and proofs lives in statemap/tree.
//
// Design: https://github.com/tabularium/tabularium/blob/main/docs/design/state-map.md
// (docs/design/state-map.md in the repository).
package statemap

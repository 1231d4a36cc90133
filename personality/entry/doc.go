// Package entry is the wire format of a Tabularium registry entry: a COSE_Sign
// message (RFC 9052 §4.1, tag 98) with one signature per party, over a payload in
// deterministic CBOR (RFC 8949 §4.2.1, core deterministic encoding).
//
// Parsing is strict: an entry is at most MaxSize bytes; duplicate map keys,
// indefinite lengths, tags inside the payload, unknown fields and any encoding
// that differs from the canonical re-encoding are refused with ErrMalformed; a
// signature that does not verify is refused with ErrBadSignature. Parse returns
// only entries whose every signature verifies; Entry.Signers lists the keys.
//
// Parties are public keys (Ed25519 or ECDSA P-256, see PublicKey); documents are
// salted SHA-256 commitments (see Commit). Names, addresses, grades and vaccine
// details never appear in clear: the typed field sets in fields.go have no place
// for them.
package entry

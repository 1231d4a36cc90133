package log

import (
	"crypto/sha256"

	"github.com/transparency-dev/merkle/rfc6962"
)

// LeafHash returns the RFC 6962 hash of a log entry: SHA-256(0x00 || data).
func LeafHash(data []byte) [32]byte {
	var h [32]byte
	copy(h[:], rfc6962.DefaultHasher.HashLeaf(data))
	return h
}

// EmptyRoot is the root hash of the empty tree, SHA-256 of the empty string.
var EmptyRoot = sha256.Sum256(nil)

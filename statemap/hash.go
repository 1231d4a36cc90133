package statemap

import "crypto/sha256"

// Depth is the depth of the map: leaves are at depth 256, the root at depth 0.
const Depth = 256

// HashSize is the size of every hash in the map (SHA-256).
const HashSize = 32

// SPEC(state-map): E[256] = H("tabularium/statemap/v1 empty").
const emptyLabel = "tabularium/statemap/v1 empty"

// empty[d] is the hash of an empty subtree whose root is at depth d.
var empty = func() (e [Depth + 1][HashSize]byte) {
	e[Depth] = sha256.Sum256([]byte(emptyLabel))
	for d := Depth - 1; d >= 0; d-- {
		e[d] = NodeHash(e[d+1], e[d+1])
	}
	return e
}()

// EmptyRoot is the root of the empty map, E[0].
var EmptyRoot = empty[0]

// EmptyHash returns E[depth], the hash of an empty subtree whose root is at the
// given depth (0 to 256). It panics for a depth out of range.
func EmptyHash(depth int) [HashSize]byte {
	return empty[depth]
}

// LeafHash returns the hash of the leaf of key k holding record:
// H(0x00 || K || H(record)).
func LeafHash(k Key, record []byte) [HashSize]byte {
	r := sha256.Sum256(record)
	var b [1 + 32 + HashSize]byte
	b[0] = 0x00
	copy(b[1:], k[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// NodeHash returns the hash of an interior node: H(0x01 || left || right).
func NodeHash(left, right [HashSize]byte) [HashSize]byte {
	var b [1 + 2*HashSize]byte
	b[0] = 0x01
	copy(b[1:], left[:])
	copy(b[1+HashSize:], right[:])
	return sha256.Sum256(b[:])
}

package tree_test

import (
	"bytes"
	"crypto/sha256"
	"slices"
)

// The reference map of these tests, written from docs/design/state-map.md
// with its own hashing and none of the tree's code: the root by recursion
// over the sorted leaves.

type refLeaf struct {
	key  [32]byte
	hash [32]byte // the leaf hash, H(0x00 || K || H(record))
}

var refEmpty = func() (e [257][32]byte) {
	e[256] = sha256.Sum256([]byte("tabularium/statemap/v1 empty"))
	for d := 255; d >= 0; d-- {
		e[d] = refNode(e[d+1], e[d+1])
	}
	return e
}()

func refNode(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func refLeafHash(k [32]byte, record []byte) [32]byte {
	r := sha256.Sum256(record)
	return sha256.Sum256(append(append([]byte{0}, k[:]...), r[:]...))
}

// refMap is a map from key to leaf hash.
type refMap map[[32]byte][32]byte

func (m refMap) sorted() []refLeaf {
	var s []refLeaf
	for k, h := range m {
		s = append(s, refLeaf{k, h})
	}
	slices.SortFunc(s, func(a, b refLeaf) int { return bytes.Compare(a.key[:], b.key[:]) })
	return s
}

func (m refMap) root() [32]byte { return refRoot(m.sorted(), 0) }

func refRoot(leaves []refLeaf, depth int) [32]byte {
	if len(leaves) == 0 {
		return refEmpty[depth]
	}
	if depth == 256 {
		return leaves[0].hash
	}
	split := 0
	for split < len(leaves) && leaves[split].key[depth/8]&(0x80>>(depth%8)) == 0 {
		split++
	}
	return refNode(refRoot(leaves[:split], depth+1), refRoot(leaves[split:], depth+1))
}

func (m refMap) clone() refMap {
	c := refMap{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

package statemap_test

import (
	"bytes"
	"crypto/sha256"
	"slices"

	"github.com/tabularium/tabularium/statemap"
)

// This file is a reference of the map written from docs/design/state-map.md
// alone, with its own hashing: the root and the siblings of a key's path by
// recursion over the sorted leaves.

type refLeaf struct {
	key    [32]byte
	record []byte
}

func refH(parts ...[]byte) [32]byte {
	return sha256.Sum256(bytes.Join(parts, nil))
}

var refEmpties = func() (e [257][32]byte) {
	e[256] = refH([]byte("tabularium/statemap/v1 empty"))
	for d := 255; d >= 0; d-- {
		e[d] = refH([]byte{1}, e[d+1][:], e[d+1][:])
	}
	return e
}()

func refEmpty(depth int) [32]byte { return refEmpties[depth] }

func refBit(k [32]byte, i int) int { return int(k[i/8]>>(7-uint(i%8))) & 1 }

func refSort(leaves []refLeaf) []refLeaf {
	s := slices.Clone(leaves)
	slices.SortFunc(s, func(a, b refLeaf) int { return bytes.Compare(a.key[:], b.key[:]) })
	return s
}

// refRoot is the hash of the subtree at depth holding leaves (sorted, all
// under that subtree).
func refRoot(leaves []refLeaf, depth int) [32]byte {
	if len(leaves) == 0 {
		return refEmpty(depth)
	}
	if depth == 256 {
		r := sha256.Sum256(leaves[0].record)
		return refH([]byte{0}, leaves[0].key[:], r[:])
	}
	split := 0
	for split < len(leaves) && refBit(leaves[split].key, depth) == 0 {
		split++
	}
	l, r := refRoot(leaves[:split], depth+1), refRoot(leaves[split:], depth+1)
	return refH([]byte{1}, l[:], r[:])
}

// refSiblings returns the siblings of k's path, index d-1 for depth d.
func refSiblings(leaves []refLeaf, k [32]byte) *[256][32]byte {
	var sib [256][32]byte
	for d := 0; d < 256; d++ {
		split := 0
		for split < len(leaves) && refBit(leaves[split].key, d) == 0 {
			split++
		}
		if refBit(k, d) == 0 {
			sib[d] = refRoot(leaves[split:], d+1)
			leaves = leaves[:split]
		} else {
			sib[d] = refRoot(leaves[:split], d+1)
			leaves = leaves[split:]
		}
	}
	return &sib
}

// refProof encodes the siblings as the design says: bitmap, then the
// non-empty siblings in increasing depth.
func refProof(sib *[256][32]byte) []byte {
	bitmap := make([]byte, 32)
	var hashes []byte
	for d := 1; d <= 256; d++ {
		if sib[d-1] != refEmpty(d) {
			bitmap[(d-1)/8] |= 0x80 >> uint((d-1)%8)
			hashes = append(hashes, sib[d-1][:]...)
		}
	}
	return append(bitmap, hashes...)
}

func mustKey(id string, doc []byte) statemap.Key {
	k, err := statemap.ObjectKey(id, doc)
	if err != nil {
		panic(err)
	}
	return k
}

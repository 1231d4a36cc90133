package tree

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/tabularium/tabularium/statemap"
)

// bucket is the stored content of one subtree at topDepth at one version: its
// leaves in key order and its branch nodes (those with two non-empty
// children). Every other node of the subtree is derived from them.
type bucket struct {
	keys     []statemap.Key
	leaves   [][32]byte
	branches map[node][32]byte
}

// span returns the range [i, j) of the bucket's leaves under n.
func (b *bucket) span(n node) (i, j int) {
	lo, hi := n.lo(), n.hi()
	i = sort.Search(len(b.keys), func(x int) bool { return bytes.Compare(b.keys[x][:], lo[:]) >= 0 })
	j = i + sort.Search(len(b.keys)-i, func(x int) bool { return bytes.Compare(b.keys[i+x][:], hi[:]) > 0 })
	return i, j
}

// has reports whether k is one of the bucket's leaves.
func (b *bucket) has(k statemap.Key) bool {
	i, j := b.span(nodeOf(k, statemap.Depth))
	return j > i
}

// hash returns the hash of node n, which lies in the bucket.
func (b *bucket) hash(n node) ([32]byte, error) {
	i, j := b.span(n)
	switch j - i {
	case 0:
		return statemap.EmptyHash(n.depth), nil
	case 1:
		return fold(b.leaves[i], b.keys[i], statemap.Depth, n.depth), nil
	}
	// The subtree's top branch node is where its first and last leaves part.
	d := lcp(b.keys[i], b.keys[j-1])
	top := nodeOf(b.keys[i], d)
	h, ok := b.branches[top]
	if !ok {
		return [32]byte{}, fmt.Errorf("%w: branch node at depth %d above leaves %x and %x is not stored", ErrCorrupt, d, b.keys[i], b.keys[j-1])
	}
	return fold(h, top.path, d, n.depth), nil
}

// sharedPrefix returns the longest prefix, in bits, that k shares with a
// leaf of the bucket other than k: that of one of its neighbours in key order.
func (b *bucket) sharedPrefix(k statemap.Key) int {
	i := sort.Search(len(b.keys), func(x int) bool { return bytes.Compare(b.keys[x][:], k[:]) >= 0 })
	m := 0
	for _, j := range []int{i - 1, i, i + 1} {
		if j >= 0 && j < len(b.keys) && b.keys[j] != k {
			m = max(m, lcp(b.keys[j], k))
		}
	}
	return m
}

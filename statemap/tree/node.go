package tree

import (
	"bytes"
	"fmt"
	"math/bits"

	smtnode "github.com/google/trillian/merkle/smt/node"
	"github.com/tabularium/tabularium/statemap"
)

// topDepth is the depth of the buckets: the tree above it (2^17-1 nodes, 4 MiB)
// is held in memory per version, and each subtree below it (a bucket) is read
// with one range query.
const topDepth = 16

// node is a node of the tree: the first depth bits of path, the others zero.
type node struct {
	depth int
	path  statemap.Key
}

// nodeOf returns the ancestor of key k at the given depth.
func nodeOf(k statemap.Key, depth int) node {
	n := node{depth: depth}
	full := depth / 8
	copy(n.path[:full], k[:full])
	if r := depth % 8; r != 0 {
		n.path[full] = k[full] & ^byte(0xff>>r)
	}
	return n
}

// sibling returns the other child of n's parent.
func (n node) sibling() node {
	i := n.depth - 1
	n.path[i/8] ^= 0x80 >> (i % 8)
	return n
}

// parent returns the node above n.
func (n node) parent() node { return nodeOf(n.path, n.depth-1) }

// lo and hi are the smallest and largest keys under n.
func (n node) lo() statemap.Key { return n.path }

func (n node) hi() statemap.Key {
	h := n.path
	for i := n.depth; i < statemap.Depth; {
		if i%8 == 0 {
			h[i/8] = 0xff
			i += 8
			continue
		}
		h[i/8] |= 0xff >> (i % 8)
		i += 8 - i%8
	}
	return h
}

// bucket is the index of the bucket (the node at topDepth) holding n; n must be
// at topDepth or below.
func (n node) bucket() int { return int(n.path[0])<<8 | int(n.path[1]) }

// index is n's position among the nodes of its depth, for depths up to topDepth.
func (n node) index() int {
	if n.depth == 0 {
		return 0
	}
	return (int(n.path[0])<<8 | int(n.path[1])) >> (16 - n.depth)
}

// id and fromID convert between node and trillian's node.ID.
func (n node) id() smtnode.ID { return smtnode.NewID(string(n.path[:]), uint(n.depth)) }

func fromID(id smtnode.ID) node {
	n := node{depth: int(id.BitLen())}
	full := id.FullBytes()
	copy(n.path[:], full)
	if last, b := id.LastByte(); b > 0 {
		n.path[len(full)] = last
	}
	return n
}

// lcp returns the number of leading bits that a and b share (256 if equal).
func lcp(a, b statemap.Key) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return statemap.Depth
}

// fold returns the hash at depth `to` of a subtree whose only non-empty node at
// depth `from` is on k's path with hash h.
func fold(h [32]byte, k statemap.Key, from, to int) [32]byte {
	for d := from; d > to; d-- {
		if k.Bit(d-1) == 0 {
			h = statemap.NodeHash(h, statemap.EmptyHash(d))
		} else {
			h = statemap.NodeHash(statemap.EmptyHash(d), h)
		}
	}
	return h
}

// Stored node ids. A leaf is its key and a zero byte (33 bytes); a branch
// node below topDepth is the bytes of its path that hold its depth bits and
// a byte of its depth (3 to 33 bytes, the depth never zero). Both begin
// with the two bytes of their bucket, so that one range reads a bucket.

func leafRowID(k statemap.Key) []byte { return append(k[:], 0) }

func branchRowID(n node) []byte {
	b := make([]byte, (n.depth+7)/8, (n.depth+7)/8+1)
	copy(b, n.path[:])
	return append(b, byte(n.depth))
}

// parseRowID returns the node a stored id names and whether it is a leaf.
func parseRowID(id []byte) (n node, leaf bool, err error) {
	if len(id) == 33 && id[32] == 0 {
		copy(n.path[:], id)
		n.depth = statemap.Depth
		return n, true, nil
	}
	if len(id) < 2 {
		return node{}, false, fmt.Errorf("%w: stored node id %x is too short", ErrCorrupt, id)
	}
	d := int(id[len(id)-1])
	if d <= topDepth || len(id) != (d+7)/8+1 {
		return node{}, false, fmt.Errorf("%w: stored node id %x has a bad depth", ErrCorrupt, id)
	}
	copy(n.path[:], id[:len(id)-1])
	n.depth = d
	if nodeOf(n.path, d) != n {
		return node{}, false, fmt.Errorf("%w: stored node id %x has bits past its depth", ErrCorrupt, id)
	}
	return n, false, nil
}

// bucketRange returns the range of stored ids of bucket b.
func bucketRange(b int) (lo, hi []byte) {
	lo = []byte{byte(b >> 8), byte(b)}
	hi = append(bytes.Clone(lo), bytes.Repeat([]byte{0xff}, 32)...)
	return lo, hi
}

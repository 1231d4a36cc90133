package tree

import (
	"github.com/google/trillian/merkle/smt"
	smtnode "github.com/google/trillian/merkle/smt/node"
	"github.com/tabularium/tabularium/statemap"
)

// top is the tree above the buckets at one version: every node from the root
// (depth 0) to topDepth, empty ones included. It is never changed once built,
// so readers share it without a lock.
type top struct {
	levels  [topDepth + 1][][32]byte
	objects uint64
}

// emptyTop returns the top of the empty map.
func emptyTop() *top {
	t := new(top)
	for d := 0; d <= topDepth; d++ {
		t.levels[d] = make([][32]byte, 1<<d)
		e := statemap.EmptyHash(d)
		for i := range t.levels[d] {
			t.levels[d][i] = e
		}
	}
	return t
}

func (t *top) root() [32]byte { return t.levels[0][0] }

func (t *top) get(n node) [32]byte { return t.levels[n.depth][n.index()] }

func (t *top) clone() *top {
	c := &top{objects: t.objects}
	for d := range t.levels {
		c.levels[d] = append([][32]byte(nil), t.levels[d]...)
	}
	return c
}

// rehash recomputes every level above topDepth from the nodes at topDepth.
func (t *top) rehash() {
	for d := topDepth - 1; d >= 0; d-- {
		for i := range t.levels[d] {
			t.levels[d][i] = statemap.NodeHash(t.levels[d+1][2*i], t.levels[d+1][2*i+1])
		}
	}
}

// update sets the given nodes at topDepth and brings the levels above them up
// to date with HStar3, returning the new root.
func (t *top) update(nodes []smt.Node) ([32]byte, error) {
	if len(nodes) == 0 {
		return t.root(), nil
	}
	h, err := smt.NewHStar3(nodes, hashChildren, topDepth, 0)
	if err != nil {
		return [32]byte{}, err
	}
	rootNodes, err := h.Update(topAccessor{t})
	if err != nil {
		return [32]byte{}, err
	}
	copy(t.levels[0][0][:], rootNodes[0].Hash)
	return t.root(), nil
}

// topAccessor gives HStar3 the nodes of a top being updated: the nodes it
// reads are never those it writes.
type topAccessor struct{ t *top }

func (a topAccessor) Get(id smtnode.ID) ([]byte, error) {
	h := a.t.get(fromID(id))
	return h[:], nil
}

func (a topAccessor) Set(id smtnode.ID, hash []byte) {
	n := fromID(id)
	copy(a.t.levels[n.depth][n.index()][:], hash)
}

func hashChildren(l, r []byte) []byte {
	h := statemap.NodeHash([32]byte(l), [32]byte(r))
	return h[:]
}

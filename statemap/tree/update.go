package tree

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/google/trillian/merkle/smt"
	smtnode "github.com/google/trillian/merkle/smt/node"
	"github.com/tabularium/tabularium/statemap"
	"golang.org/x/sync/errgroup"
)

// maxVersion keeps versions within the databases' signed 64-bit integers.
const maxVersion = 1<<63 - 1

// Update writes version v of the map, the latest version with each leaf of
// the batch set to its new hash, and returns its root. v must be Latest()+1.
// The version is written in one transaction: if Update fails, or the process
// dies during it, the latest version stays v-1, whole and readable, and the
// update may be made again.
func (t *Tree) Update(ctx context.Context, v uint64, leaves []Leaf) ([32]byte, error) {
	t.write.Lock()
	defer t.write.Unlock()
	latest, err := t.Latest(ctx)
	if err != nil {
		return [32]byte{}, err
	}
	if v != latest+1 || v > maxVersion {
		return [32]byte{}, fmt.Errorf("%w: asked to write version %d, the latest is %d", ErrVersion, v, latest)
	}
	prev, err := t.top(ctx, latest)
	if err != nil {
		return [32]byte{}, err
	}
	batch := slices.Clone(leaves)
	slices.SortFunc(batch, func(a, b Leaf) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	for i := 1; i < len(batch); i++ {
		if batch[i].Key == batch[i-1].Key {
			return [32]byte{}, fmt.Errorf("%w: %x", ErrDuplicateKey, batch[i].Key)
		}
	}
	next := prev.clone()
	tops, branches, added, err := t.updateBuckets(ctx, latest, batch)
	if err != nil {
		return [32]byte{}, fmt.Errorf("state map: update version %d: %w", v, err)
	}
	next.objects += added
	topRows := make([]topRow, len(tops))
	for i, n := range tops {
		topRows[i] = topRow{idx: fromID(n.ID).index(), hash: [32]byte(n.Hash)}
	}
	// Above them: HStar3 again, over the top levels in memory.
	root, err := next.update(tops)
	if err != nil {
		return [32]byte{}, fmt.Errorf("state map: update version %d: %w", v, err)
	}
	if err := t.commit(ctx, v, root, next.objects, batch, branches, topRows); err != nil {
		return [32]byte{}, err
	}
	t.remember(v, next)
	return root, nil
}

// workers is how many parts of a batch are computed at once, each over its own
// buckets (HStar3 runs on disjoint subtrees in parallel, and its results at
// topDepth are merged).
const workers = 2

// updateBuckets reads the buckets that the batch (sorted) touches at version
// latest, and computes their new roots with HStar3. It returns the new nodes
// at topDepth in order, the branch nodes to store and the number of keys new
// to the map.
func (t *Tree) updateBuckets(ctx context.Context, latest uint64, batch []Leaf) ([]smt.Node, []nodeRow, uint64, error) {
	// Cut the batch into parts at bucket boundaries.
	var parts [][]Leaf
	for start := 0; start < len(batch); {
		end := min(start+(len(batch)+workers-1)/workers, len(batch))
		for end < len(batch) && nodeOf(batch[end].Key, topDepth).bucket() == nodeOf(batch[end-1].Key, topDepth).bucket() {
			end++
		}
		parts = append(parts, batch[start:end])
		start = end
	}
	us := make([]*updater, len(parts))
	tops := make([][]smt.Node, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	for i, part := range parts {
		us[i] = &updater{batch: part, buckets: map[int]*bucket{}, branch: map[node]bool{}}
		g.Go(func() (err error) {
			tops[i], err = us[i].run(gctx, t, latest)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, 0, err
	}
	var all []smt.Node
	var branches []nodeRow
	var added uint64
	for i, u := range us {
		all = append(all, tops[i]...)
		branches = append(branches, u.branches...)
		added += u.added
	}
	return all, branches, added, nil
}

// run reads the part's buckets and runs HStar3 on them.
func (u *updater) run(ctx context.Context, t *Tree, latest uint64) ([]smt.Node, error) {
	for _, l := range u.batch {
		b := nodeOf(l.Key, topDepth).bucket()
		bk := u.buckets[b]
		if bk == nil {
			var err error
			if bk, err = t.bucket(ctx, t.db, b, latest); err != nil {
				return nil, err
			}
			u.buckets[b] = bk
		}
		if !bk.has(l.Key) {
			u.added++
		}
	}
	nodes := make([]smt.Node, len(u.batch))
	for i, l := range u.batch {
		nodes[i] = smt.Node{ID: nodeOf(l.Key, statemap.Depth).id(), Hash: l.Hash[:]}
	}
	h, err := smt.NewHStar3(nodes, hashChildren, statemap.Depth, topDepth)
	if err != nil {
		return nil, err
	}
	tops, err := h.Update(u)
	if err != nil {
		return nil, err
	}
	return tops, nil
}

// updater is the NodeAccessor of HStar3 below the buckets. Get reads the map
// before the update; Set records the nodes to store: only branch nodes, those
// with two non-empty children after the update. A node that HStar3 sets has
// one child on an updated path; the other is non-empty if HStar3 set it too
// (the two come one after the other, left then right) or if Get found it
// non-empty (no key ever leaves the map).
type updater struct {
	batch    []Leaf
	buckets  map[int]*bucket
	branches []nodeRow
	added    uint64
	// branch holds the nodes that will be set and are branches.
	branch map[node]bool
	// last is the node set last at each depth.
	last [statemap.Depth + 1]node
}

type nodeRow struct {
	id   []byte
	hash [32]byte
}

type topRow struct {
	idx  int
	hash [32]byte
}

func (u *updater) Get(id smtnode.ID) ([]byte, error) {
	n := fromID(id)
	h, err := u.buckets[n.bucket()].hash(n)
	if err != nil {
		return nil, err
	}
	if h != statemap.EmptyHash(n.depth) {
		u.branch[n.parent()] = true
	}
	return h[:], nil
}

func (u *updater) Set(id smtnode.ID, hash []byte) {
	n := fromID(id)
	if n.depth > topDepth+1 && u.last[n.depth] == n.sibling() {
		u.branch[n.parent()] = true
	}
	u.last[n.depth] = n
	if n.depth == statemap.Depth {
		return // the leaves are written from the batch
	}
	if u.branch[n] {
		delete(u.branch, n)
		u.branches = append(u.branches, nodeRow{id: branchRowID(n), hash: [32]byte(hash)})
	}
}

// commit writes version v in one transaction.
func (t *Tree) commit(ctx context.Context, v uint64, root [32]byte, objects uint64, leaves []Leaf, branches []nodeRow, tops []topRow) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state map: begin version %d: %w", v, err)
	}
	defer tx.Rollback()
	// The version row goes first: a second writer of v stops here, before it
	// wrote anything else.
	if _, err := tx.ExecContext(ctx, t.q.insertVersion, v, root[:], objects); err != nil {
		var latest uint64
		if l, lerr := t.Latest(ctx); lerr == nil {
			latest = l
		}
		if latest >= v {
			return fmt.Errorf("%w: version %d was written by another writer meanwhile", ErrVersion, v)
		}
		return fmt.Errorf("state map: record version %d: %w", v, err)
	}
	rows := make([]nodeRow, 0, len(leaves)+len(branches))
	for _, l := range leaves {
		rows = append(rows, nodeRow{id: leafRowID(l.Key), hash: l.Hash})
	}
	rows = append(rows, branches...)
	if err := insertRows(ctx, tx, t.q.insertNode, len(rows), func(i int) []any { return []any{rows[i].id, v, rows[i].hash[:]} }); err != nil {
		return fmt.Errorf("state map: write the nodes of version %d: %w", v, err)
	}
	if err := insertRows(ctx, tx, t.q.insertTop, len(tops), func(i int) []any { return []any{tops[i].idx, v, tops[i].hash[:]} }); err != nil {
		return fmt.Errorf("state map: write the top of version %d: %w", v, err)
	}
	if testHookBeforeCommit != nil {
		if err := testHookBeforeCommit(v); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state map: commit version %d: %w", v, err)
	}
	return nil
}

// testHookBeforeCommit, when set by a test, runs before each commit; an error
// it returns aborts the update.
var testHookBeforeCommit func(v uint64) error

// rowsPerInsert bounds the rows of one INSERT (3 placeholders each), under
// SQLite's and MySQL's limits on placeholders.
const rowsPerInsert = 300

func insertRows(ctx context.Context, tx *sql.Tx, prefix string, n int, row func(int) []any) error {
	for start := 0; start < n; start += rowsPerInsert {
		end := min(start+rowsPerInsert, n)
		var q strings.Builder
		q.WriteString(prefix)
		args := make([]any, 0, 3*(end-start))
		for i := start; i < end; i++ {
			if i > start {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?)")
			args = append(args, row(i)...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

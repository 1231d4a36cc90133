package tree

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/tabularium/tabularium/statemap"
)

// ErrVersion is returned by Update for a version that does not follow the
// latest one (another writer got there first, or the caller skipped one).
// Nothing was written; read Latest and start again from there.
var ErrVersion = errors.New("map version does not follow the latest")

// ErrUnknownVersion is returned for a read at a version that was never
// written or was pruned. Read at a version between Oldest and Latest.
var ErrUnknownVersion = errors.New("map version is not stored")

// ErrDuplicateKey is returned by Update for a batch that names a key twice.
// Nothing was written; give each key one leaf hash.
var ErrDuplicateKey = errors.New("key appears twice in one update")

// ErrCorrupt is returned when the stored tree contradicts itself (a branch
// node it needs is missing, a root does not match its nodes). The map must be
// rebuilt from the log.
var ErrCorrupt = errors.New("stored map is corrupt")

// Leaf is one leaf of an update: a key and the hash of the record it now holds
// (statemap.LeafHash).
type Leaf struct {
	Key  statemap.Key
	Hash [32]byte
}

// Config says where a tree lives.
type Config struct {
	Dialect Dialect
	// Prefix begins the names of the tree's tables (Prefix+"nodes",
	// Prefix+"top", Prefix+"versions"), so that it can share a database with
	// the state index or with other trees.
	Prefix string
	// CachedVersions is how many versions' top levels (4 MiB each) are kept in
	// memory; 4 when zero.
	CachedVersions int
}

// Tree is a sparse Merkle tree of depth 256, versioned, stored in an SQL
// database. It is safe for concurrent use. Updates are serialised within the
// process; writers in several processes must take turns (as the state index's
// writers do), and a second writer of one version gets ErrVersion.
type Tree struct {
	db *sql.DB
	q  queries

	write   sync.Mutex   // serialises Update and Prune
	pruning sync.RWMutex // Prune holds it to write, reads to read

	mu   sync.Mutex
	tops map[uint64]*top // by version; a few recent ones
	lru  []uint64
	max  int
}

// Open opens the tree stored in db, creating its tables if needed. The caller
// keeps db and closes it after it is done with the tree.
func Open(ctx context.Context, db *sql.DB, cfg Config) (*Tree, error) {
	q, err := newQueries(cfg.Dialect, cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("state map: %w", err)
	}
	for _, s := range q.schema {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("state map: create tables: %w", err)
		}
	}
	t := &Tree{db: db, q: q, tops: map[uint64]*top{}, max: cfg.CachedVersions}
	if t.max <= 0 {
		t.max = 4
	}
	// Version 0 is the empty map; its row makes "stored" mean "has a row".
	// It is written into a new tree only: a pruned tree has none.
	var v0 sql.NullInt64
	if err := db.QueryRowContext(ctx, t.q.latest).Scan(&v0); err != nil {
		return nil, fmt.Errorf("state map: read the latest version: %w", err)
	}
	if !v0.Valid {
		e := statemap.EmptyRoot
		if _, err := db.ExecContext(ctx, t.q.insertVersion+onConflictIgnore(cfg.Dialect), 0, e[:], 0); err != nil {
			return nil, fmt.Errorf("state map: record the empty version: %w", err)
		}
	}
	latest, err := t.Latest(ctx)
	if err != nil {
		return nil, err
	}
	// Load the latest version's top now, and check it against its root.
	if _, err := t.top(ctx, latest); err != nil {
		return nil, err
	}
	return t, nil
}

func onConflictIgnore(d Dialect) string {
	if d == MySQL {
		return ` ON DUPLICATE KEY UPDATE version = version`
	}
	return ` ON CONFLICT DO NOTHING`
}

// Latest returns the latest version written (0 for the empty map).
func (t *Tree) Latest(ctx context.Context) (uint64, error) {
	var v sql.NullInt64
	if err := t.db.QueryRowContext(ctx, t.q.latest).Scan(&v); err != nil {
		return 0, fmt.Errorf("state map: read the latest version: %w", err)
	}
	return uint64(v.Int64), nil
}

// Oldest returns the oldest version still stored.
func (t *Tree) Oldest(ctx context.Context) (uint64, error) {
	var v sql.NullInt64
	if err := t.db.QueryRowContext(ctx, t.q.oldest).Scan(&v); err != nil {
		return 0, fmt.Errorf("state map: read the oldest version: %w", err)
	}
	return uint64(v.Int64), nil
}

// Version returns the root of the map at version v and the number of keys it
// holds.
func (t *Tree) Version(ctx context.Context, v uint64) (root [32]byte, objects uint64, err error) {
	var r []byte
	var n int64
	err = t.db.QueryRowContext(ctx, t.q.version, v).Scan(&r, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return root, 0, fmt.Errorf("%w: version %d", ErrUnknownVersion, v)
	}
	if err != nil {
		return root, 0, fmt.Errorf("state map: read version %d: %w", v, err)
	}
	if len(r) != 32 {
		return root, 0, fmt.Errorf("%w: root of version %d is %d bytes", ErrCorrupt, v, len(r))
	}
	return [32]byte(r), uint64(n), nil
}

// top returns the top of version v, from memory or rebuilt from the database.
func (t *Tree) top(ctx context.Context, v uint64) (*top, error) {
	t.mu.Lock()
	tp, ok := t.tops[v]
	t.mu.Unlock()
	if ok {
		return tp, nil
	}
	root, objects, err := t.Version(ctx, v)
	if err != nil {
		return nil, err
	}
	tp = emptyTop()
	tp.objects = objects
	rows, err := t.db.QueryContext(ctx, t.q.top, v)
	if err != nil {
		return nil, fmt.Errorf("state map: read the top of version %d: %w", v, err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, fmt.Errorf("state map: read the top of version %d: %w", v, err)
		}
		if idx < 0 || idx >= 1<<topDepth || len(h) != 32 {
			return nil, fmt.Errorf("%w: top node %d of version %d", ErrCorrupt, idx, v)
		}
		tp.levels[topDepth][idx] = [32]byte(h) // rows are oldest first: the last one wins
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state map: read the top of version %d: %w", v, err)
	}
	tp.rehash()
	if tp.root() != root {
		return nil, fmt.Errorf("%w: the stored nodes of version %d give root %x, not the recorded %x", ErrCorrupt, v, tp.root(), root)
	}
	t.remember(v, tp)
	return tp, nil
}

func (t *Tree) remember(v uint64, tp *top) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.tops[v]; ok {
		return
	}
	t.tops[v] = tp
	t.lru = append(t.lru, v)
	for len(t.lru) > t.max {
		delete(t.tops, t.lru[0])
		t.lru = t.lru[1:]
	}
}

func (t *Tree) forget(below uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.lru[:0]
	for _, v := range t.lru {
		if v < below {
			delete(t.tops, v)
		} else {
			kept = append(kept, v)
		}
	}
	t.lru = kept
}

// queryer is a database or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// bucket reads bucket b at version v.
func (t *Tree) bucket(ctx context.Context, db queryer, b int, v uint64) (*bucket, error) {
	lo, hi := bucketRange(b)
	rows, err := db.QueryContext(ctx, t.q.bucket, lo, hi, v)
	if err != nil {
		return nil, fmt.Errorf("state map: read bucket %04x at version %d: %w", b, v, err)
	}
	defer rows.Close()
	bk := &bucket{branches: map[node][32]byte{}}
	var last []byte
	for rows.Next() {
		var id, h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("state map: read bucket %04x at version %d: %w", b, v, err)
		}
		if len(h) != 32 {
			return nil, fmt.Errorf("%w: stored node %x has a %d-byte hash", ErrCorrupt, id, len(h))
		}
		n, leaf, err := parseRowID(id)
		if err != nil {
			return nil, err
		}
		// Rows come oldest first within an id: a newer one replaces the last.
		same := string(id) == string(last)
		last = id
		switch {
		case !leaf:
			bk.branches[n] = [32]byte(h)
		case same:
			bk.leaves[len(bk.leaves)-1] = [32]byte(h)
		default:
			bk.keys = append(bk.keys, n.path)
			bk.leaves = append(bk.leaves, [32]byte(h))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state map: read bucket %04x at version %d: %w", b, v, err)
	}
	return bk, nil
}

// Prove returns the proof of key k's leaf, or of its absence, in the map at
// version v. It verifies with statemap.Proof.Verify against the root of v.
func (t *Tree) Prove(ctx context.Context, v uint64, k statemap.Key) (statemap.Proof, error) {
	t.pruning.RLock()
	defer t.pruning.RUnlock()
	tp, err := t.top(ctx, v)
	if err != nil {
		return statemap.Proof{}, err
	}
	b, err := t.bucket(ctx, t.db, nodeOf(k, topDepth).bucket(), v)
	if err != nil {
		return statemap.Proof{}, err
	}
	var sib [statemap.Depth][32]byte
	for d := 1; d <= topDepth; d++ {
		sib[d-1] = tp.get(nodeOf(k, d).sibling())
	}
	// A sibling at depth d holds keys that share d-1 bits with k, so those
	// below the longest prefix k shares with its neighbours are empty.
	deepest := b.sharedPrefix(k)
	for d := topDepth + 1; d <= statemap.Depth; d++ {
		if d > deepest+1 {
			sib[d-1] = statemap.EmptyHash(d)
			continue
		}
		if sib[d-1], err = b.hash(nodeOf(k, d).sibling()); err != nil {
			return statemap.Proof{}, err
		}
	}
	return statemap.NewProof(&sib), nil
}

// Leaf returns the leaf hash that key k holds at version v, and whether it
// holds one.
func (t *Tree) Leaf(ctx context.Context, v uint64, k statemap.Key) ([32]byte, bool, error) {
	t.pruning.RLock()
	defer t.pruning.RUnlock()
	if _, _, err := t.Version(ctx, v); err != nil {
		return [32]byte{}, false, err
	}
	b, err := t.bucket(ctx, t.db, nodeOf(k, topDepth).bucket(), v)
	if err != nil {
		return [32]byte{}, false, err
	}
	i, j := b.span(nodeOf(k, statemap.Depth))
	if i == j {
		return [32]byte{}, false, nil
	}
	return b.leaves[i], true, nil
}

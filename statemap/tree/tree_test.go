package tree_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/tabularium/tabularium/log/engine/awstest"
	"github.com/tabularium/tabularium/statemap"
	"github.com/tabularium/tabularium/statemap/tree"

	_ "github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite"
)

// store is one database the conformance tests run against.
type store struct {
	name    string
	dialect tree.Dialect
	// open returns a database; each call for one test opens the same one.
	open func(t *testing.T) func() *sql.DB
}

var stores = []store{
	{"SQLite", tree.SQLite, func(t *testing.T) func() *sql.DB {
		path := filepath.Join(t.TempDir(), "map.db")
		return func() *sql.DB { return openSQLite(t, path) }
	}},
	{"MySQL", tree.MySQL, func(t *testing.T) func() *sql.DB {
		dsn := awstest.MySQLDSN(t)
		return func() *sql.DB {
			db, err := sql.Open("mysql", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	}},
}

func openSQLite(t testing.TB, path string) *sql.DB {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// forEachStore runs f against every store.
func forEachStore(t *testing.T, f func(t *testing.T, s store, db func() *sql.DB)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { f(t, s, s.open(t)) })
	}
}

func openTree(t *testing.T, s store, db *sql.DB, prefix string) *tree.Tree {
	t.Helper()
	tr, err := tree.Open(context.Background(), db, tree.Config{Dialect: s.dialect, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// randomBatch returns n leaves: new keys, some of them close to others (in
// one bucket, sharing long prefixes), and new hashes for keys of m.
func randomBatch(rng *rand.Rand, m refMap, n int) []tree.Leaf {
	var out []tree.Leaf
	seen := map[[32]byte]bool{}
	add := func(k [32]byte) {
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, tree.Leaf{Key: k, Hash: refLeafHash(k, fmt.Appendf(nil, "%d", rng.Uint64()))})
	}
	existing := m.sorted()
	for len(out) < n {
		var k [32]byte
		for i := range k {
			k[i] = byte(rng.Uint32())
		}
		switch r := rng.IntN(10); {
		case r < 2 && len(existing) > 0: // an update of a present key
			k = existing[rng.IntN(len(existing))].key
		case r < 4 && len(existing) > 0: // a neighbour of a present key
			e := existing[rng.IntN(len(existing))].key
			cut := 16 + rng.IntN(240)
			for i := 0; i < cut; i++ {
				if e[i/8]&(0x80>>(i%8)) != k[i/8]&(0x80>>(i%8)) {
					k[i/8] ^= 0x80 >> (i % 8)
				}
			}
		case r < 5: // in the first bucket, crowded
			k[0], k[1] = 0, 0
		}
		add(k)
	}
	return out
}

func apply(m refMap, batch []tree.Leaf) {
	for _, l := range batch {
		m[l.Key] = l.Hash
	}
}

func TestRootsAndProofsMatchTheReference(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, db func() *sql.DB) {
		ctx := context.Background()
		tr := openTree(t, s, db(), "tabularium_map_")
		for seed := uint64(1); seed <= 3; seed++ {
			rng := rand.New(rand.NewPCG(seed, 7))
			m := refMap{}
			prefix := fmt.Sprintf("seed%d_", seed)
			tr := openTree(t, s, db(), prefix)
			for v := uint64(1); v <= 6; v++ {
				batch := randomBatch(rng, m, []int{1, 2, 40, 7, 150, 30}[v-1])
				apply(m, batch)
				root, err := tr.Update(ctx, v, batch)
				if err != nil {
					t.Fatal(err)
				}
				if want := m.root(); root != want {
					t.Fatalf("seed %d version %d: root %x, the reference says %x", seed, v, root, want)
				}
				if r, n, err := tr.Version(ctx, v); err != nil || r != root || n != uint64(len(m)) {
					t.Fatalf("Version(%d) = %x, %d, %v; want %x, %d", v, r, n, err, root, len(m))
				}
			}
			checkProofs(t, tr, 6, m, rng)
		}
		if v, err := tr.Latest(ctx); err != nil || v != 0 {
			t.Errorf("a tree of another prefix in the same database: Latest = %d, %v; want 0", v, err)
		}
		if r, _, err := tr.Version(ctx, 0); err != nil || r != statemap.EmptyRoot {
			t.Errorf("the empty tree's root: %x, %v", r, err)
		}
	})
}

// checkProofs checks a proof of every key of m, and of absent keys next to
// them, at version v.
func checkProofs(t *testing.T, tr *tree.Tree, v uint64, m refMap, rng *rand.Rand) {
	t.Helper()
	checkProofsOf(t, tr, v, m, m, rng)
}

// checkProofsOf checks the proofs of the keys of sample, a part of m.
func checkProofsOf(t *testing.T, tr *tree.Tree, v uint64, m, sample refMap, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	root := m.root()
	for k, h := range sample {
		p, err := tr.Prove(ctx, v, k)
		if err != nil {
			t.Fatal(err)
		}
		if p.Root(k, nil) == root {
			t.Fatalf("present key %x is proven absent", k)
		}
		if got := leafRoot(p, k, h); got != root {
			t.Fatalf("proof of present key %x gives root %x, want %x", k, got, root)
		}
		if lh, ok, err := tr.Leaf(ctx, v, k); err != nil || !ok || lh != h {
			t.Fatalf("Leaf(%x) = %x, %v, %v; want %x", k, lh, ok, err, h)
		}
		absent := k
		absent[rng.IntN(32)] ^= byte(1 + rng.IntN(255))
		if _, ok := m[absent]; ok {
			continue
		}
		p, err = tr.Prove(ctx, v, absent)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(root, absent, nil); err != nil {
			t.Fatalf("absence of %x: %v", absent, err)
		}
	}
}

// leafRoot folds a proof from a leaf hash (the tree stores hashes, not
// records), by the design note's rule.
func leafRoot(p statemap.Proof, k [32]byte, h [32]byte) [32]byte {
	for d := 256; d >= 1; d-- {
		if k[(d-1)/8]&(0x80>>((d-1)%8)) == 0 {
			h = refNode(h, p.Sibling(d))
		} else {
			h = refNode(p.Sibling(d), h)
		}
	}
	return h
}

func TestOlderVersionsStayReadable(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, db func() *sql.DB) {
		ctx := context.Background()
		tr := openTree(t, s, db(), "m_")
		rng := rand.New(rand.NewPCG(3, 3))
		var maps []refMap
		m := refMap{}
		maps = append(maps, m.clone())
		for v := uint64(1); v <= 5; v++ {
			batch := randomBatch(rng, m, 25)
			apply(m, batch)
			maps = append(maps, m.clone())
			if _, err := tr.Update(ctx, v, batch); err != nil {
				t.Fatal(err)
			}
		}
		// A fresh tree on the same database has no cached versions: it
		// rebuilds each from the stored nodes.
		fresh := openTree(t, s, db(), "m_")
		for _, tr := range []*tree.Tree{tr, fresh} {
			for v, m := range maps {
				checkProofs(t, tr, uint64(v), m, rng)
			}
		}
		if _, err := tr.Prove(ctx, 6, [32]byte{}); !errors.Is(err, tree.ErrUnknownVersion) {
			t.Errorf("proof at a future version: %v, want ErrUnknownVersion", err)
		}

		if err := tr.Prune(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if o, err := tr.Oldest(ctx); err != nil || o != 3 {
			t.Errorf("Oldest after Prune(3) = %d, %v", o, err)
		}
		for v := range 3 {
			if _, err := tr.Prove(ctx, uint64(v), [32]byte{}); !errors.Is(err, tree.ErrUnknownVersion) {
				t.Errorf("proof at pruned version %d: %v, want ErrUnknownVersion", v, err)
			}
		}
		fresh = openTree(t, s, db(), "m_")
		if o, err := fresh.Oldest(ctx); err != nil || o != 3 {
			t.Errorf("Oldest of the pruned tree opened again = %d, %v; want 3", o, err)
		}
		if _, _, err := fresh.Version(ctx, 0); !errors.Is(err, tree.ErrUnknownVersion) {
			t.Errorf("version 0 of the pruned tree opened again: %v, want ErrUnknownVersion", err)
		}
		for _, tr := range []*tree.Tree{tr, fresh} {
			for v := 3; v <= 5; v++ {
				checkProofs(t, tr, uint64(v), maps[v], rng)
			}
		}
		if err := tr.Prune(ctx, 6); !errors.Is(err, tree.ErrUnknownVersion) {
			t.Errorf("Prune past the latest version: %v, want ErrUnknownVersion", err)
		}
		// Updates go on after a prune.
		batch := randomBatch(rng, m, 10)
		apply(m, batch)
		if root, err := tr.Update(ctx, 6, batch); err != nil || root != m.root() {
			t.Errorf("update after prune: %x, %v; want %x", root, err, m.root())
		}
	})
}

func TestUpdateRefusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, db func() *sql.DB) {
		ctx := context.Background()
		tr := openTree(t, s, db(), "m_")
		k := [32]byte{1}
		if _, err := tr.Update(ctx, 2, nil); !errors.Is(err, tree.ErrVersion) {
			t.Errorf("skipping version 1: %v, want ErrVersion", err)
		}
		if _, err := tr.Update(ctx, 1, []tree.Leaf{{Key: k}, {Key: k}}); !errors.Is(err, tree.ErrDuplicateKey) {
			t.Errorf("a key twice: %v, want ErrDuplicateKey", err)
		}
		if v, _ := tr.Latest(ctx); v != 0 {
			t.Errorf("a refused update wrote version %d", v)
		}
		root, err := tr.Update(ctx, 1, nil)
		if err != nil || root != statemap.EmptyRoot {
			t.Errorf("an empty batch: %x, %v; want the empty root", root, err)
		}
		if _, err := tr.Update(ctx, 1, nil); !errors.Is(err, tree.ErrVersion) {
			t.Errorf("version 1 again: %v, want ErrVersion", err)
		}
		// A second tree on the same tables, whose cache is behind, still
		// cannot write a version twice.
		other := openTree(t, s, db(), "m_")
		if _, err := tr.Update(ctx, 2, []tree.Leaf{{Key: k, Hash: [32]byte{1}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Update(ctx, 2, []tree.Leaf{{Key: k, Hash: [32]byte{2}}}); !errors.Is(err, tree.ErrVersion) {
			t.Errorf("a second writer of version 2: %v, want ErrVersion", err)
		}
		if _, err := tree.Open(ctx, db(), tree.Config{Dialect: s.dialect, Prefix: "Bad-Prefix"}); err == nil {
			t.Errorf("a table prefix with capitals and a dash was accepted")
		}
	})
}

// TestProofsDuringAnUpdate proves keys at the latest version while the next
// one is written, as the server does between two publications.
func TestProofsDuringAnUpdate(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, db func() *sql.DB) {
		ctx := context.Background()
		tr := openTree(t, s, db(), "m_")
		rng := rand.New(rand.NewPCG(9, 9))
		m := refMap{}
		b1 := randomBatch(rng, m, 200)
		apply(m, b1)
		if _, err := tr.Update(ctx, 1, b1); err != nil {
			t.Fatal(err)
		}
		root := m.root()
		var keys [][32]byte
		for k := range m {
			keys = append(keys, k)
		}
		done := make(chan struct{})
		errs := make(chan error, 1)
		go func() {
			defer close(errs)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				k := keys[i%len(keys)]
				p, err := tr.Prove(ctx, 1, k)
				if err == nil && leafRoot(p, k, m[k]) != root {
					err = fmt.Errorf("proof of %x at version 1 during the update does not give its root", k)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
		next := m.clone()
		for v := uint64(2); v <= 4; v++ {
			batch := randomBatch(rng, next, 300)
			apply(next, batch)
			if root, err := tr.Update(ctx, v, batch); err != nil || root != next.root() {
				t.Fatalf("version %d: %x, %v", v, root, err)
			}
		}
		close(done)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	})
}

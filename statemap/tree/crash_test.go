package tree_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabularium/tabularium/statemap/tree"
)

var errCrash = errors.New("injected failure before commit")

func TestFailedUpdateLeavesThePreviousVersion(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, db func() *sql.DB) {
		ctx := context.Background()
		tr := openTree(t, s, db(), "m_")
		rng := rand.New(rand.NewPCG(5, 5))
		m := refMap{}
		b1 := randomBatch(rng, m, 50)
		apply(m, b1)
		if _, err := tr.Update(ctx, 1, b1); err != nil {
			t.Fatal(err)
		}
		before := m.clone()
		b2 := randomBatch(rng, m, 80)
		undo := tree.SetBeforeCommit(func(uint64) error { return errCrash })
		_, err := tr.Update(ctx, 2, b2)
		undo()
		if !errors.Is(err, errCrash) {
			t.Fatalf("Update with a failing commit: %v", err)
		}
		for _, tr := range []*tree.Tree{tr, openTree(t, s, db(), "m_")} {
			if v, err := tr.Latest(ctx); err != nil || v != 1 {
				t.Fatalf("after a failed update Latest = %d, %v; want 1", v, err)
			}
			if r, n, err := tr.Version(ctx, 1); err != nil || r != before.root() || n != uint64(len(before)) {
				t.Fatalf("version 1 after a failed update: %x, %d, %v", r, n, err)
			}
			checkProofs(t, tr, 1, before, rng)
		}
		apply(m, b2)
		if root, err := tr.Update(ctx, 2, b2); err != nil || root != m.root() {
			t.Fatalf("the update made again: %x, %v; want %x", root, err, m.root())
		}
	})
}

// crashBatch is the batch of version v in TestKillDuringUpdates.
func crashBatch(v uint64) []tree.Leaf {
	rng := rand.New(rand.NewPCG(v, 99))
	out := make([]tree.Leaf, 300)
	for i := range out {
		for j := range out[i].Key {
			out[i].Key[j] = byte(rng.Uint32())
		}
		out[i].Hash = refLeafHash(out[i].Key, []byte{byte(v)})
	}
	return out
}

const crashChildEnv = "STATEMAP_TREE_CRASH_CHILD"

// TestKillDuringUpdates kills a process that writes versions (SIGKILL, no
// chance to clean up) and checks that the database it leaves holds a whole
// latest version, equal to the reference, on which updates go on.
func TestKillDuringUpdates(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		db := openSQLite(t, path)
		tr, err := tree.Open(context.Background(), db, tree.Config{Dialect: tree.SQLite, Prefix: "m_"})
		if err != nil {
			t.Fatal(err)
		}
		for v := uint64(1); v <= 200; v++ {
			if _, err := tr.Update(context.Background(), v, crashBatch(v)); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	path := filepath.Join(t.TempDir(), "map.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringUpdates$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Wait for a few versions, then kill the writer wherever it is.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the writer wrote no version in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
		db := openSQLite(t, path)
		var v sql.NullInt64
		db.QueryRowContext(ctx, `SELECT MAX(version) FROM m_versions`).Scan(&v)
		db.Close()
		if v.Int64 >= 3 {
			break
		}
	}
	time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	db := openSQLite(t, path)
	tr, err := tree.Open(ctx, db, tree.Config{Dialect: tree.SQLite, Prefix: "m_"})
	if err != nil {
		t.Fatal(err)
	}
	latest, err := tr.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := refMap{}
	for v := uint64(1); v <= latest; v++ {
		apply(m, crashBatch(v))
	}
	if r, n, err := tr.Version(ctx, latest); err != nil || r != m.root() || n != uint64(len(m)) {
		t.Fatalf("after the kill, version %d: %x, %d objects, %v; the reference says %x, %d", latest, r, n, err, m.root(), len(m))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	sample := refMap{}
	for k, h := range m {
		if rng.IntN(20) == 0 {
			sample[k] = h
		}
	}
	checkProofsOf(t, tr, latest, m, sample, rng)
	apply(m, crashBatch(latest+1))
	if root, err := tr.Update(ctx, latest+1, crashBatch(latest+1)); err != nil || root != m.root() {
		t.Fatalf("the next update after the kill: %x, %v; want %x", root, err, m.root())
	}
}

package state

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine/awstest"
	"github.com/tabularium/tabularium/personality/rules"
)

// opener opens the same index again on every call, for one test.
type opener func(t *testing.T, origin string) (*Store, error)

func TestSQLite(t *testing.T) {
	runConformance(t, func(t *testing.T) opener {
		path := filepath.Join(t.TempDir(), "state.db")
		return func(t *testing.T, origin string) (*Store, error) { return Open(path, origin) }
	})
}

func TestMySQL(t *testing.T) {
	runConformance(t, func(t *testing.T) opener {
		dsn := awstest.MySQLDSN(t)
		return func(t *testing.T, origin string) (*Store, error) { return OpenMySQL(t.Context(), dsn, origin) }
	})
}

// runConformance is the one suite every Store implementation passes.
func runConformance(t *testing.T, newIndex func(t *testing.T) opener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"CommitAllIsOneGroup", testCommitAllIsOneGroup},
		{"IndexBelongsToOneLog", testIndexBelongsToOneLog},
		{"StaleWriterWritesNothing", testStaleWriterWritesNothing},
		{"RacingWritersOneWins", testRacingWritersOneWins},
		{"LockExcludes", testLockExcludes},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newIndex(t)) })
	}
}

const origin = "example.org/log"

func mustOpen(t *testing.T, open opener) *Store {
	t.Helper()
	s, err := open(t, origin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testCommitAllIsOneGroup: a group commit leaves the index as committing its
// entries one by one would: every object in its last state, the last Meta;
// and a reopened index holds the same.
func testCommitAllIsOneGroup(t *testing.T, open opener) {
	s := mustOpen(t, open)
	if m, err := s.Meta(); err != nil || m != (rules.Meta{}) {
		t.Fatalf("meta of a new index: %+v, %v", m, err)
	}
	chs := []*rules.Changes{
		{Objects: []*rules.Object{{ID: "a", Status: "one", Latest: 0}, {ID: "b", Latest: 0}}, Meta: rules.Meta{Size: 1, Time: 10}},
		{Objects: []*rules.Object{{ID: "a", Status: "two", Latest: 1}}, Meta: rules.Meta{Size: 2, Time: 11}},
	}
	if err := s.CommitAll(chs); err != nil {
		t.Fatal(err)
	}
	if err := s.Reject(2, chs[1].Meta, &rules.Error{Code: rules.CodeStalePrev, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{s, mustOpen(t, open)} {
		if a, err := s.Object("a"); err != nil || a == nil || a.Status != "two" || a.Latest != 1 {
			t.Errorf("object a: %+v, %v", a, err)
		}
		if b, err := s.Object("b"); err != nil || b == nil {
			t.Errorf("object b: %+v, %v", b, err)
		}
		if c, err := s.Object("c"); err != nil || c != nil {
			t.Errorf("object c: %+v, %v; want none", c, err)
		}
		if m, err := s.Meta(); err != nil || m != rules.Skip(chs[1].Meta, 2) {
			t.Errorf("meta %+v, %v; want %+v", m, err, rules.Skip(chs[1].Meta, 2))
		}
		if r, err := s.RejectedAt(2); err != nil || r == nil || r.Code != rules.CodeStalePrev {
			t.Errorf("refusal at 2: %+v, %v", r, err)
		}
		if r, err := s.RejectedAt(1); err != nil || r != nil {
			t.Errorf("refusal at 1: %+v, %v", r, err)
		}
		if enc, err := s.Encoded(); err != nil || len(enc) != 2 {
			t.Errorf("encoded: %d objects, %v", len(enc), err)
		}
		if rej, err := s.Rejected(); err != nil || len(rej) != 1 {
			t.Errorf("rejected: %v, %v", rej, err)
		}
	}
}

func testIndexBelongsToOneLog(t *testing.T, open opener) {
	mustOpen(t, open)
	if s, err := open(t, "example.org/other"); err == nil {
		s.Close()
		t.Fatal("an index of one log opened for another")
	}
}

// testStaleWriterWritesNothing: a writer whose view of the position is old
// (another front end committed meanwhile) gets ErrStale and changes nothing.
func testStaleWriterWritesNothing(t *testing.T, open opener) {
	s := mustOpen(t, open)
	first := &rules.Changes{Objects: []*rules.Object{{ID: "a", Status: "first"}}, Meta: rules.Meta{Size: 1, Time: 1}}
	if err := s.CommitAllAfter(rules.Meta{}, []*rules.Changes{first}); err != nil {
		t.Fatal(err)
	}
	stale := &rules.Changes{Objects: []*rules.Object{{ID: "a", Status: "stale"}}, Meta: rules.Meta{Size: 1, Time: 2}}
	if err := s.CommitAllAfter(rules.Meta{}, []*rules.Changes{stale}); !errors.Is(err, ErrStale) {
		t.Fatalf("stale commit: %v, want ErrStale", err)
	}
	if err := s.Reject(0, rules.Meta{}, &rules.Error{Code: rules.CodeStalePrev, Message: "m"}); !errors.Is(err, ErrStale) {
		t.Fatalf("stale reject: %v, want ErrStale", err)
	}
	if a, _ := s.Object("a"); a == nil || a.Status != "first" {
		t.Fatalf("object a after a stale commit: %+v", a)
	}
	if m, _ := s.Meta(); m != first.Meta {
		t.Fatalf("meta after a stale commit: %+v", m)
	}
}

// testRacingWritersOneWins: writers on separate connections that all read the
// same position and commit after it: exactly one succeeds.
func testRacingWritersOneWins(t *testing.T, open opener) {
	const n = 8
	stores := make([]*Store, n)
	for i := range stores {
		stores[i] = mustOpen(t, open)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := &rules.Changes{Objects: []*rules.Object{{ID: "x", Latest: uint64(i)}}, Meta: rules.Meta{Size: 1}}
			err := s.CommitAllAfter(rules.Meta{}, []*rules.Changes{ch})
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, ErrStale) {
				// A deadlock or busy refusal is a loss too, but say so.
				t.Logf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d racing writers succeeded, want 1", wins.Load())
	}
}

// testLockExcludes: two holders of the writer lock never overlap, and a
// waiter gives up when its context ends.
func testLockExcludes(t *testing.T, open opener) {
	a, b := mustOpen(t, open), mustOpen(t, open)
	unlock, err := a.Lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if u, err := b.Lock(ctx); err == nil {
		u()
		t.Fatal("took a lock another store holds")
	}
	var inside atomic.Int32
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.Lock(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			if inside.Add(1) != 1 {
				t.Error("two holders at once")
			}
			time.Sleep(20 * time.Millisecond)
			inside.Add(-1)
			u()
		}()
	}
	unlock()
	wg.Wait()
}

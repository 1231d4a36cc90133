package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tabularium/tabularium/log"
)

// fork returns a log with the same keys and the first n entries of l, which
// then grows on its own: a split view if both are shown.
func (l *testLog) fork(n int) *testLog {
	f := *l
	f.entries, f.hashes = nil, nil
	for _, e := range l.entries[:n] {
		f.add(e)
	}
	return &f
}

func TestLastSeenAdvancesWithConsistencyProofs(t *testing.T) {
	ctx := context.Background()
	l := smallLog(t)
	path := filepath.Join(t.TempDir(), "last-seen.json")
	s, err := OpenLastSeen(path)
	if err != nil {
		t.Fatal(err)
	}
	p := l.policy()
	if _, err := s.Update(ctx, p, testOrigin, l.checkpoint(3, testNow, 0, 1), tlogProver{l}, testNow, 0); err != nil {
		t.Fatalf("first checkpoint: %v", err)
	}
	if _, err := s.Update(ctx, p, testOrigin, l.checkpoint(5, testNow, 1, 2), tlogProver{l}, testNow, 0); err != nil {
		t.Fatalf("consistent growth: %v", err)
	}
	// The same tree again needs no proof.
	if _, err := s.Update(ctx, p, testOrigin, l.checkpoint(5, testNow, 0, 2), nil, testNow, 0); err != nil {
		t.Fatalf("same tree: %v", err)
	}
	// A checkpoint under the quorum is refused and not stored.
	l.addEntry("land/parcel-f")
	if _, err := s.Update(ctx, p, testOrigin, l.checkpoint(6, testNow, 0), tlogProver{l}, testNow, 0); !errors.Is(err, log.ErrQuorum) {
		t.Fatalf("under quorum: %v", err)
	}
	s2, err := OpenLastSeen(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, ok, err := s2.Get(testOrigin)
	if err != nil || !ok {
		t.Fatalf("reopen: %v %v", ok, err)
	}
	cp, _, _ := p.VerifyCheckpoint(msg, testOrigin, testNow, 0)
	if cp.Size != 5 {
		t.Fatalf("stored size %d, want 5", cp.Size)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("state folder holds %d files, want the state file only", len(ents))
	}
}

func TestLastSeenDetectsRollback(t *testing.T) {
	ctx := context.Background()
	l := smallLog(t)
	s, _ := OpenLastSeen(filepath.Join(t.TempDir(), "last-seen.json"))
	p := l.policy()
	newer := l.checkpoint(5, testNow, 0, 1)
	if _, err := s.Update(ctx, p, testOrigin, newer, tlogProver{l}, testNow, 0); err != nil {
		t.Fatal(err)
	}
	older := l.checkpoint(4, testNow, 0, 1)
	_, err := s.Update(ctx, p, testOrigin, older, tlogProver{l}, testNow, 0)
	var fe *ForkError
	if !errors.Is(err, ErrRollback) || !errors.As(err, &fe) || string(fe.Old) != string(newer) || string(fe.New) != string(older) {
		t.Fatalf("err = %v", err)
	}
	if msg, _, _ := s.Get(testOrigin); string(msg) != string(newer) {
		t.Fatal("a rollback changed the stored checkpoint")
	}
}

func TestLastSeenDetectsSplitView(t *testing.T) {
	ctx := context.Background()
	l := smallLog(t)
	f := l.fork(3)
	f.addEntry("land/forged-1")
	f.addEntry("land/forged-2")
	f.addEntry("land/forged-3")
	p := l.policy()
	for _, tc := range []struct {
		name      string
		seen      []byte
		shown     []byte
		prover    ConsistencyProver
		wantProof bool
	}{
		{"larger fork", l.checkpoint(4, testNow, 0, 1), f.checkpoint(6, testNow, 1, 2), tlogProver{f}, true},
		{"same size, other root", l.checkpoint(5, testNow, 0, 1), f.checkpoint(5, testNow, 1, 2), tlogProver{f}, false},
		{"seen fork, then the main log", f.checkpoint(4, testNow, 0, 1), l.checkpoint(5, testNow, 1, 2), tlogProver{l}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := OpenLastSeen(filepath.Join(t.TempDir(), "last-seen.json"))
			if _, err := s.Update(ctx, p, testOrigin, tc.seen, tc.prover, testNow, 0); err != nil {
				t.Fatal(err)
			}
			_, err := s.Update(ctx, p, testOrigin, tc.shown, tc.prover, testNow, 0)
			var fe *ForkError
			if !errors.Is(err, ErrSplitView) || !errors.As(err, &fe) {
				t.Fatalf("err = %v", err)
			}
			var pe *log.ProofError
			if string(fe.Old) != string(tc.seen) || string(fe.New) != string(tc.shown) || !errors.As(err, &pe) || (len(fe.Proof) > 0) != tc.wantProof {
				t.Fatalf("evidence: %+v", fe)
			}
			if msg, _, _ := s.Get(testOrigin); string(msg) != string(tc.seen) {
				t.Fatal("a split view changed the stored checkpoint")
			}
		})
	}
}

func TestLastSeenRefusesCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "last-seen.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLastSeen(path); err == nil {
		t.Fatal("corrupt state file accepted")
	}
}

package witness_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness"
)

func TestPullProvesConsistencyFromTiles(t *testing.T) {
	l := newTestLog(t, "example.com/pulled")
	srv := l.serveTiles(t)
	skey, _, _ := log.GenerateKey("witness.example/w1")
	cfg := l.config()
	cfg.URL = srv.URL + "/"
	store := witness.NewMemoryStore()
	w, err := witness.New(witness.Config{SignerKey: skey, Store: store, Logs: []witness.Log{cfg}})
	if err != nil {
		t.Fatal(err)
	}
	// Sizes cross partial and full tiles at levels 0 and 1.
	for _, size := range []int64{1, 3, 255, 256, 300, 70000} {
		l.grow(int(size - l.size))
		if err := w.Pull(t.Context(), l.origin); err != nil {
			t.Fatalf("pull at size %d: %v", size, err)
		}
		stored, _ := store.Load(t.Context(), l.origin)
		lv, _ := log.NewVerifier(l.vkey)
		cp, _, err := log.OpenCheckpoint(stored, l.origin, lv)
		if err != nil || cp.Size != uint64(size) || cp.Hash != l.root(size) {
			t.Fatalf("after pull at %d: stored %+v, %v", size, cp, err)
		}
	}
	// Pulling again with nothing new changes nothing.
	before, _ := store.Load(t.Context(), l.origin)
	if err := w.Pull(t.Context(), l.origin); err != nil {
		t.Fatal(err)
	}
	if after, _ := store.Load(t.Context(), l.origin); !bytes.Equal(before, after) {
		t.Fatal("a pull with nothing new changed the stored checkpoint")
	}
}

func TestPullRefusesFork(t *testing.T) {
	l := newTestLog(t, "example.com/pulled")
	l.grow(10)
	srv := l.serveTiles(t)
	cfg := l.config()
	cfg.URL = srv.URL
	skey, _, _ := log.GenerateKey("witness.example/w1")
	store := witness.NewMemoryStore()
	w, err := witness.New(witness.Config{SignerKey: skey, Store: store, Logs: []witness.Log{cfg}})
	if err != nil {
		t.Fatal(err)
	}
	// The witness has already cosigned another tree of size 10.
	fork := log.Checkpoint{Origin: l.origin, Size: 10, Hash: l.root(9)}
	if _, err := w.AddCheckpoint(t.Context(), witness.AddCheckpointRequest{Note: l.sign(fork)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Pull(t.Context(), l.origin); !errors.Is(err, witness.ErrFork) {
		t.Fatalf("pull of a forked log: %v, want ErrFork", err)
	}
	l.grow(5)
	if err := w.Pull(t.Context(), l.origin); !errors.Is(err, witness.ErrInconsistent) {
		t.Fatalf("pull of a grown forked log: %v, want ErrInconsistent", err)
	}
}

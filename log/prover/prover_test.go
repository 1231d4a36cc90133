package prover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	tclient "github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/tlog"
)

// tree is an in-memory log whose tiles come from golang.org/x/mod/sumdb/tlog,
// an implementation independent of this package and of tessera.
type tree struct {
	mu     sync.Mutex
	hashes []tlog.Hash
	size   int64
	reads  int
	// fullForPartial answers partial tile requests with the full tile once
	// it exists, as tessera's readers may.
	fullForPartial bool
}

func newTree(t testing.TB, n int64) *tree {
	tr := &tree{}
	tr.grow(t, n)
	return tr
}

func (tr *tree) grow(t testing.TB, n int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for ; tr.size < n; tr.size++ {
		hs, err := tlog.StoredHashes(tr.size, fmt.Appendf(nil, "entry %d", tr.size), tr)
		if err != nil {
			t.Fatal(err)
		}
		tr.hashes = append(tr.hashes, hs...)
	}
}

// ReadHashes makes tree a tlog.HashReader; callers hold mu.
func (tr *tree) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(tr.hashes)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = tr.hashes[x]
	}
	return out, nil
}

func (tr *tree) readTile(_ context.Context, level, index uint64, p uint8) ([]byte, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.reads++
	atLevel := uint64(tr.size) >> (8 * level)
	full := (index+1)*256 <= atLevel
	switch {
	case full && (p == 0 || tr.fullForPartial):
		return tlog.ReadTileData(tlog.Tile{H: 8, L: int(level), N: int64(index), W: 256}, tr)
	case p != 0 && index*256+uint64(p) <= atLevel:
		return tlog.ReadTileData(tlog.Tile{H: 8, L: int(level), N: int64(index), W: int(p)}, tr)
	}
	// A tile that does not exist yet is not found, as on disk.
	return nil, fmt.Errorf("tile %d/%d.p/%d: %w", level, index, p, os.ErrNotExist)
}

func (tr *tree) wantInclusion(t testing.TB, index, size int64) [][]byte {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	p, err := tlog.ProveRecord(size, index, tr)
	if err != nil {
		t.Fatal(err)
	}
	return flatten(p)
}

func (tr *tree) wantConsistency(t testing.TB, size1, size2 int64) [][]byte {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	p, err := tlog.ProveTree(size2, size1, tr)
	if err != nil {
		t.Fatal(err)
	}
	return flatten(p)
}

func flatten(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func sameProof(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

// TestProofsMatchIndependentTree checks inclusion and consistency proofs
// against x/mod's at sizes around tile boundaries of levels 0, 1 and 2, with
// one cache shared while the tree grows, so a stale partial tile would show.
func TestProofsMatchIndependentTree(t *testing.T) {
	ctx := context.Background()
	for _, fullForPartial := range []bool{false, true} {
		t.Run(fmt.Sprintf("fullForPartial=%v", fullForPartial), func(t *testing.T) {
			tr := &tree{fullForPartial: fullForPartial}
			p, err := New(tr.readTile, 64)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			sizes := []int64{1, 2, 3, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 65536 + 256 + 1, 70000}
			for _, size := range sizes {
				tr.grow(t, size)
				indices := []int64{0, size - 1, size / 2}
				for range 40 {
					indices = append(indices, rng.Int64N(size))
				}
				for _, i := range indices {
					got, err := p.InclusionProof(ctx, uint64(i), uint64(size))
					if err != nil {
						t.Fatalf("size %d index %d: %v", size, i, err)
					}
					if want := tr.wantInclusion(t, i, size); !sameProof(got, want) {
						t.Fatalf("size %d index %d: inclusion proof differs from x/mod's", size, i)
					}
					if i == 0 {
						continue
					}
					got, err = p.ConsistencyProof(ctx, uint64(i), uint64(size))
					if err != nil {
						t.Fatalf("consistency %d→%d: %v", i, size, err)
					}
					if want := tr.wantConsistency(t, i, size); !sameProof(got, want) {
						t.Fatalf("consistency %d→%d differs from x/mod's", i, size)
					}
				}
			}
		})
	}
}

// TestCacheKeepsFullTiles checks that a second proof of the same entry reads
// no full tile again, and that a bigger tree reads its new partial tiles.
func TestCacheKeepsFullTiles(t *testing.T) {
	ctx := context.Background()
	tr := newTree(t, 70000)
	p, err := New(tr.readTile, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.InclusionProof(ctx, 1234, 70000); err != nil {
		t.Fatal(err)
	}
	first := tr.reads
	if first == 0 {
		t.Fatal("no tile read")
	}
	if _, err := p.InclusionProof(ctx, 1234, 70000); err != nil {
		t.Fatal(err)
	}
	if tr.reads != first {
		t.Fatalf("second proof read %d tiles, want 0", tr.reads-first)
	}
	tr.grow(t, 70001)
	got, err := p.InclusionProof(ctx, 1234, 70001)
	if err != nil {
		t.Fatal(err)
	}
	if tr.reads == first {
		t.Fatal("a bigger tree read no new partial tile")
	}
	if !sameProof(got, tr.wantInclusion(t, 1234, 70001)) {
		t.Fatal("proof after growth differs from x/mod's")
	}
}

// TestConcurrentProofs shares one Prover between goroutines (run with -race).
func TestConcurrentProofs(t *testing.T) {
	ctx := context.Background()
	tr := newTree(t, 20000)
	p, err := New(tr.readTile, 8)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 200 {
				i := rng.Int64N(20000)
				got, err := p.InclusionProof(ctx, uint64(i), 20000)
				if err != nil {
					errs <- err
					return
				}
				if !sameProof(got, tr.wantInclusion(t, i, 20000)) {
					errs <- fmt.Errorf("index %d: wrong proof", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestRefusals: out-of-range requests, reader errors and malformed tiles are
// errors, never a proof.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	tr := newTree(t, 1000)
	p, err := New(tr.readTile, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.InclusionProof(ctx, 1000, 1000); err == nil {
		t.Error("inclusion of index = size: no error")
	}
	if _, err := p.ConsistencyProof(ctx, 1001, 1000); err == nil {
		t.Error("consistency to a smaller size: no error")
	}
	if _, err := p.InclusionProof(ctx, 5, 5000); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tree larger than the tiles: %v, want not-exist", err)
	}
	for name, tile := range map[string][]byte{
		"empty":            nil,
		"not whole hashes": make([]byte, 31*32+5),
		"too short":        make([]byte, 32*10),
		"too long":         make([]byte, 32*257),
	} {
		bad, err := New(func(context.Context, uint64, uint64, uint8) ([]byte, error) { return tile, nil }, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.InclusionProof(ctx, 3, 1000); !errors.Is(err, ErrBadTile) {
			t.Errorf("%s tile: %v, want ErrBadTile", name, err)
		}
	}
}

// BenchmarkInclusionProof compares a shared Prover with tessera's
// ProofBuilder made per request, as a server would, on a tree of 1M leaves.
func BenchmarkInclusionProof(b *testing.B) {
	ctx := context.Background()
	const size = 1 << 20
	tr := newTree(b, size)
	rf := func(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
		return tr.readTile(ctx, level, index, p)
	}
	b.Run("prover", func(b *testing.B) {
		p, err := New(rf, 0)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		for b.Loop() {
			if _, err := p.InclusionProof(ctx, rng.Uint64N(size), size); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tessera-per-request", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 1))
		for b.Loop() {
			pb, err := tclient.NewProofBuilder(ctx, size, rf)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pb.InclusionProof(ctx, rng.Uint64N(size)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

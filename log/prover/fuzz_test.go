package prover

import (
	"context"
	"errors"
	"testing"
)

// FuzzTiles gives the Prover arbitrary tile bytes for every tile it reads: it
// must return ErrBadTile or a proof of the right length, never panic.
func FuzzTiles(f *testing.F) {
	f.Add([]byte{}, uint64(3), uint64(1000))
	f.Add(make([]byte, 32*256), uint64(70000), uint64(70001))
	f.Add(make([]byte, 32*232), uint64(999), uint64(1000))
	f.Fuzz(func(t *testing.T, tile []byte, index, size uint64) {
		if size == 0 || size > 1<<40 {
			return
		}
		index %= size
		p, err := New(func(context.Context, uint64, uint64, uint8) ([]byte, error) { return tile, nil }, 4)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := p.InclusionProof(context.Background(), index, size)
		if err != nil {
			if !errors.Is(err, ErrBadTile) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		for _, h := range proof {
			if len(h) != 32 {
				t.Fatalf("proof hash of %d bytes", len(h))
			}
		}
	})
}

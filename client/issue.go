package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/transparency-dev/tessera/api/layout"
	tclient "github.com/transparency-dev/tessera/client"

	"github.com/tabularium/tabularium/log"
)

// ErrNotPublished is returned by Issue for an index at or beyond the size of
// the log's latest published checkpoint; over HTTP it is 404.
var ErrNotPublished = errors.New("entry not covered by the published checkpoint")

// LogReader is read access to a log's published resources with the contracts
// of tessera.LogReader, which implements it: a missing resource is an error
// wrapping os.ErrNotExist.
type LogReader interface {
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error)
}

// Issue builds the certificate of the entry at index against the latest
// published checkpoint of the log read by r, without openings. It trusts r:
// it is meant for the log's own server.
func Issue(ctx context.Context, r LogReader, index uint64) (*Certificate, error) {
	msg, err := r.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	body, _, _ := bytes.Cut(msg, []byte("\n\n"))
	cp, err := log.ParseCheckpoint(append(bytes.Clone(body), '\n'))
	if err != nil {
		return nil, fmt.Errorf("published checkpoint: %w", err)
	}
	if index >= cp.Size {
		return nil, fmt.Errorf("%w: index %d, published size %d", ErrNotPublished, index, cp.Size)
	}
	tiles := fallbackTiles(r.ReadTile)
	pb, err := tclient.NewProofBuilder(ctx, cp.Size, tiles)
	if err != nil {
		return nil, err
	}
	proof, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %d in %d: %w", index, cp.Size, err)
	}
	bundles := fallbackTiles(func(ctx context.Context, _, n uint64, p uint8) ([]byte, error) { return r.ReadEntryBundle(ctx, n, p) })
	readBundle := func(ctx context.Context, n uint64, p uint8) ([]byte, error) { return bundles(ctx, 0, n, p) }
	eb, err := tclient.GetEntryBundle(ctx, readBundle, index/layout.EntryBundleWidth, cp.Size)
	if err != nil {
		return nil, fmt.Errorf("entry bundle of %d: %w", index, err)
	}
	j := index % layout.EntryBundleWidth
	if j >= uint64(len(eb.Entries)) {
		return nil, fmt.Errorf("entry bundle of %d has only %d entries", index, len(eb.Entries))
	}
	c := &Certificate{Entry: eb.Entries[j], Index: index, Checkpoint: msg}
	for _, h := range proof {
		if len(h) != 32 {
			return nil, fmt.Errorf("proof hash of %d bytes", len(h))
		}
		c.Hashes = append(c.Hashes, [32]byte(h))
	}
	// Check the proof against the checkpoint before handing it out: a server
	// must not issue certificates that cannot verify.
	if err := log.VerifyInclusion(index, cp.Size, log.LeafHash(c.Entry), proof, cp.Hash); err != nil {
		return nil, err
	}
	return c, nil
}

// fallbackTiles wraps a tile reader so that a missing partial tile is read as
// the full tile, which a grown tree has in its place.
func fallbackTiles(f func(ctx context.Context, level, index uint64, p uint8) ([]byte, error)) tclient.TileFetcherFunc {
	return func(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
		b, err := f(ctx, level, index, p)
		if p != 0 && errors.Is(err, os.ErrNotExist) {
			return f(ctx, level, index, 0)
		}
		return b, err
	}
}

package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"

	"github.com/tabularium/tabularium/log"
)

// ErrTreeMismatch is wrapped by a *TreeError: what the log serves (entries or
// tiles) does not hash to the tree its signed checkpoint commits to. The log is
// corrupt or lying; the audit's findings beyond Index are void.
var ErrTreeMismatch = errors.New("served log does not match its checkpoint")

// TreeError is the evidence of ErrTreeMismatch: the signed checkpoint and the
// first node whose served hash differs from the one recomputed from the
// entries (level 0 is a leaf; level 8k a hash in tile level k), or, for the
// root, the two roots.
type TreeError struct {
	Checkpoint []byte
	Level      uint
	Index      uint64
	Served     []byte
	Computed   []byte
	Root       bool // the mismatch is in the root: Served is the checkpoint's
	Detail     string
}

func (e *TreeError) Error() string {
	if e.Root {
		return fmt.Sprintf("%v: the entries hash to root %x, the checkpoint says %x", ErrTreeMismatch, e.Computed, e.Served)
	}
	return fmt.Sprintf("%v: node %d at level %d: served %x, computed %x%s", ErrTreeMismatch, e.Index, e.Level, e.Served, e.Computed, e.Detail)
}

func (e *TreeError) Unwrap() error { return ErrTreeMismatch }

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// treeReader reads a log's entries in order and recomputes its tree: every
// leaf hash must equal the level-0 tile, every complete node at a tile level
// the tile that holds it, and the root the checkpoint's. It holds the compact
// range of the leaves read so far, which is all a resumed read needs.
type treeReader struct {
	src   LogReader
	cp    log.Checkpoint
	msg   []byte
	rng   *compact.Range
	tiles map[uint64]cachedTile // by tile level
	err   error                 // first mismatch found by the visitor
}

type cachedTile struct {
	index  uint64
	hashes [][]byte
}

func newTreeReader(src LogReader, rng *compact.Range, cp log.Checkpoint, msg []byte) *treeReader {
	return &treeReader{src: src, cp: cp, msg: msg, rng: rng, tiles: map[uint64]cachedTile{}}
}

// tile returns the hashes of tile (level, index) of the checkpoint's tree.
func (t *treeReader) tile(ctx context.Context, level, index uint64) ([][]byte, error) {
	if c, ok := t.tiles[level]; ok && c.index == index {
		return c.hashes, nil
	}
	raw, err := t.src.ReadTile(ctx, level, index, layout.PartialTileSize(level, index, t.cp.Size))
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d: %w", level, index, err)
	}
	var ht api.HashTile
	if err := ht.UnmarshalText(raw); err != nil {
		return nil, fmt.Errorf("tile %d/%d: %w", level, index, err)
	}
	t.tiles[level] = cachedTile{index: index, hashes: ht.Nodes}
	return ht.Nodes, nil
}

// visit checks a node the compact range computed against its tile, if the
// node is at a tile level.
func (t *treeReader) visit(ctx context.Context) compact.VisitFn {
	return func(id compact.NodeID, hash []byte) {
		if t.err != nil || id.Level%layout.TileHeight != 0 {
			return
		}
		level := uint64(id.Level / layout.TileHeight)
		hs, err := t.tile(ctx, level, id.Index/layout.TileWidth)
		if err != nil {
			t.err = err
			return
		}
		i := id.Index % layout.TileWidth
		if i >= uint64(len(hs)) {
			t.err = &TreeError{Checkpoint: t.msg, Level: id.Level, Index: id.Index, Computed: hash, Detail: fmt.Sprintf(" (tile of %d hashes lacks it)", len(hs))}
			return
		}
		if !bytes.Equal(hs[i], hash) {
			t.err = &TreeError{Checkpoint: t.msg, Level: id.Level, Index: id.Index, Served: hs[i], Computed: hash}
		}
	}
}

// read calls fn for every entry from the range's end up to to (at most the
// checkpoint's size), in order, after checking its leaf hash. It stops at the
// first error, of fn or of the tree, with the range at the entries read.
func (t *treeReader) read(ctx context.Context, to uint64, fn func(index uint64, data []byte) error) error {
	visit := t.visit(ctx)
	for i := t.rng.End(); i < to; {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := i / layout.EntryBundleWidth
		width := layout.PartialTileSize(0, b, t.cp.Size)
		raw, err := t.src.ReadEntryBundle(ctx, b, width)
		if err != nil {
			return fmt.Errorf("entry bundle %d: %w", b, err)
		}
		var eb api.EntryBundle
		if err := eb.UnmarshalText(raw); err != nil {
			return fmt.Errorf("entry bundle %d: %w", b, err)
		}
		for ; i < to && i/layout.EntryBundleWidth == b; i++ {
			j := i % layout.EntryBundleWidth
			if j >= uint64(len(eb.Entries)) {
				return &TreeError{Checkpoint: t.msg, Index: i, Detail: fmt.Sprintf(" (entry bundle %d has only %d entries)", b, len(eb.Entries))}
			}
			h := log.LeafHash(eb.Entries[j])
			if err := t.rng.Append(h[:], visit); err != nil {
				return err
			}
			if t.err != nil {
				return t.err
			}
			if err := fn(i, eb.Entries[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRoot checks, once every entry is read, that the recomputed root is the
// checkpoint's.
func (t *treeReader) checkRoot() error {
	if t.rng.End() != t.cp.Size {
		return fmt.Errorf("read %d entries of %d", t.rng.End(), t.cp.Size)
	}
	root := log.EmptyRoot[:]
	if t.cp.Size > 0 {
		var err error
		if root, err = t.rng.GetRootHash(nil); err != nil {
			return err
		}
	}
	if !bytes.Equal(root, t.cp.Hash[:]) {
		return &TreeError{Checkpoint: t.msg, Root: true, Served: t.cp.Hash[:], Computed: root}
	}
	return nil
}

// rangeFromTiles returns the compact range of the first n leaves of the
// checkpoint's tree, read from the log's tiles. The hashes are untrusted until
// a root computed from the range matches a checkpoint.
func rangeFromTiles(ctx context.Context, t *treeReader, n uint64) (*compact.Range, error) {
	ids := compact.RangeNodes(0, n, nil)
	hashes := make([][]byte, 0, len(ids))
	for _, id := range ids {
		h, err := t.nodeHash(ctx, id)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return rangeFactory.NewRange(0, n, hashes)
}

// nodeHash returns the hash of a complete node of the checkpoint's tree,
// hashing up from the tile level below it.
func (t *treeReader) nodeHash(ctx context.Context, id compact.NodeID) ([]byte, error) {
	level := uint64(id.Level / layout.TileHeight)
	r := id.Level % layout.TileHeight
	first := id.Index << r
	hs, err := t.tile(ctx, level, first/layout.TileWidth)
	if err != nil {
		return nil, err
	}
	lo, hi := first%layout.TileWidth, first%layout.TileWidth+1<<r
	if hi > uint64(len(hs)) {
		return nil, &TreeError{Checkpoint: t.msg, Level: id.Level, Index: id.Index, Detail: fmt.Sprintf(" (tile of %d hashes lacks its children)", len(hs))}
	}
	sub := rangeFactory.NewEmptyRange(0)
	for _, h := range hs[lo:hi] {
		if err := sub.Append(h, nil); err != nil {
			return nil, err
		}
	}
	return sub.GetRootHash(nil)
}

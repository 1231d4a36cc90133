// Package prover builds RFC 6962 inclusion and consistency proofs from a log's
// hash tiles (c2sp.org/tlog-tiles), for a server that answers many proof
// requests.
//
// A tile holds the 256 hashes of one level of a 256-wide subtree; every proof
// node inside it must be recomputed by hashing up to 128 of them. Tessera's
// client.ProofBuilder does that again for every new builder, that is for every
// request: about 250 hashes a tile, three or four tiles a proof. A full tile
// never changes, so a Prover hashes its subtree once and keeps every node of
// it in a cache shared by all requests; the tiles of the upper levels (a few
// hundred in a log of ten million entries) stay cached, and a proof costs the
// lookups plus the level-0 tile of its entry when that is not cached yet.
// Partial tiles are cached under their width, so a new checkpoint does not
// reuse a stale one.
package prover

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/tessera/api/layout"
)

// TileReader returns a hash tile with the contract of tessera's
// client.TileFetcherFunc: p is the partial width, 0 for a full tile.
type TileReader func(ctx context.Context, level, index uint64, p uint8) ([]byte, error)

// DefaultCacheTiles is the number of tile subtrees a Prover keeps by default:
// 16 KiB each, 32 MiB in all; every upper-level tile of a log of a few
// hundred million entries fits, with room for the recent level-0 tiles.
const DefaultCacheTiles = 2048

// ErrBadTile is returned when a tile read for a proof is not a whole number
// of hashes, or is shorter than the tree size needs.
var ErrBadTile = errors.New("malformed hash tile")

// Prover builds proofs from the tiles a TileReader returns. It is safe for
// concurrent use. It trusts its reader: a proof built from a wrong tile is
// wrong, so callers that do not trust the tiles verify what it returns.
type Prover struct {
	read  TileReader
	cache *lru.Cache[tileKey, *subtree]
}

type tileKey struct {
	level, index uint64
	width        uint16 // 1..256
}

// New returns a Prover that reads tiles with read and keeps the subtrees of
// up to cacheTiles tiles (DefaultCacheTiles if cacheTiles is 0; a negative
// value keeps none beyond one call).
func New(read TileReader, cacheTiles int) (*Prover, error) {
	p := &Prover{read: read}
	if cacheTiles == 0 {
		cacheTiles = DefaultCacheTiles
	}
	if cacheTiles > 0 {
		c, err := lru.New[tileKey, *subtree](cacheTiles)
		if err != nil {
			return nil, err
		}
		p.cache = c
	}
	return p, nil
}

// InclusionProof returns the inclusion proof of the leaf at index in the tree
// of the given size.
func (p *Prover) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return p.build(ctx, nodes, size)
}

// ConsistencyProof returns the consistency proof between the trees of sizes
// size1 and size2, read from tiles of the tree of size2.
func (p *Prover) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return p.build(ctx, nodes, size2)
}

func (p *Prover) build(ctx context.Context, nodes proof.Nodes, size uint64) ([][]byte, error) {
	hashes := make([][]byte, len(nodes.IDs))
	local := map[tileKey]*subtree{}
	for i, id := range nodes.IDs {
		tl, ti, nl, ni := layout.NodeCoordsToTileAddress(uint64(id.Level), id.Index)
		w := uint16(layout.PartialTileSize(tl, ti, size))
		if w == 0 {
			w = layout.TileWidth
		}
		k := tileKey{tl, ti, w}
		st := local[k]
		if st == nil {
			var err error
			if st, err = p.subtree(ctx, k); err != nil {
				return nil, err
			}
			local[k] = st
		}
		h, ok := st.node(nl, ni)
		if !ok {
			return nil, fmt.Errorf("%w: node %d.%d is not in tile %d/%d of width %d", ErrBadTile, id.Level, id.Index, tl, ti, w)
		}
		hashes[i] = h
	}
	return nodes.Rehash(hashes, hashChildren)
}

// subtree returns the hashed subtree of the tile k, from the cache or read.
func (p *Prover) subtree(ctx context.Context, k tileKey) (*subtree, error) {
	if p.cache != nil {
		if st, ok := p.cache.Get(k); ok {
			return st, nil
		}
	}
	var pw uint8
	if k.width < layout.TileWidth {
		pw = uint8(k.width)
	}
	b, err := p.read(ctx, k.level, k.index, pw)
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d: %w", k.level, k.index, err)
	}
	// A reader may answer a partial request with the full tile that replaced
	// it; the nodes beyond the width are not part of this tree.
	if len(b)%sha256.Size != 0 || len(b) > layout.TileWidth*sha256.Size || len(b) < int(k.width)*sha256.Size {
		return nil, fmt.Errorf("%w: tile %d/%d is %d bytes, want %d hashes", ErrBadTile, k.level, k.index, len(b), k.width)
	}
	st := newSubtree(b[:int(k.width)*sha256.Size])
	if p.cache != nil {
		p.cache.Add(k, st)
	}
	return st, nil
}

// subtree holds every complete node of one tile's subtree: levels[0] are the
// tile's hashes, levels[l] the nodes 2^l of them wide.
type subtree struct {
	levels [][][32]byte
}

func newSubtree(b []byte) *subtree {
	n := len(b) / sha256.Size
	row := make([][32]byte, n)
	for i := range row {
		copy(row[i][:], b[i*sha256.Size:])
	}
	st := &subtree{levels: [][][32]byte{row}}
	for len(row) > 1 {
		up := make([][32]byte, len(row)/2)
		for i := range up {
			up[i] = nodeHash(&row[2*i], &row[2*i+1])
		}
		st.levels = append(st.levels, up)
		row = up
	}
	return st
}

func (st *subtree) node(level uint, index uint64) ([]byte, bool) {
	if level >= uint(len(st.levels)) || index >= uint64(len(st.levels[level])) {
		return nil, false
	}
	h := st.levels[level][index]
	return h[:], true
}

// nodeHash is RFC 6962's interior node hash, SHA-256(0x01 || left || right).
func nodeHash(l, r *[32]byte) [32]byte {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+sha256.Size:], r[:])
	return sha256.Sum256(buf[:])
}

func hashChildren(l, r []byte) []byte {
	h := nodeHash((*[32]byte)(l), (*[32]byte)(r))
	return h[:]
}

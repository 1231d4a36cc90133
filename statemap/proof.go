package statemap

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// MaxProofSize is the size of the largest map proof: the bitmap and 256 hashes.
const MaxProofSize = bitmapSize + Depth*HashSize

const bitmapSize = Depth / 8

// ErrMalformedProof is returned for bytes that are not the one encoding of a map
// proof. Callers must refuse the proof.
var ErrMalformedProof = errors.New("malformed map proof")

// ErrProofMismatch is returned when a map proof, folded with the key and the
// record (or its absence), does not give the expected map root: the record is
// not what the map holds for that key, or the proof is for another key or
// another map. Callers must refuse the answer.
var ErrProofMismatch = errors.New("map proof does not lead to the map root")

// Proof is a map proof: the siblings of the nodes on a key's path, from depth 1
// to depth 256. The zero Proof has every sibling empty, which proves the one key
// of a map of one object, or any key absent from the empty map.
type Proof struct {
	// bitmap bit j (bit order of Key) is set when the sibling at depth j+1 is
	// not empty; hashes are the non-empty siblings in increasing depth.
	bitmap [bitmapSize]byte
	hashes [][HashSize]byte
}

// NewProof returns the proof made of the given siblings, siblings[d-1] being
// the sibling at depth d.
func NewProof(siblings *[Depth][HashSize]byte) Proof {
	var p Proof
	for i := range siblings {
		if siblings[i] != empty[i+1] {
			p.bitmap[i/8] |= 0x80 >> (i % 8)
			p.hashes = append(p.hashes, siblings[i])
		}
	}
	return p
}

// Sibling returns the sibling at the given depth, 1 to 256.
func (p Proof) Sibling(depth int) [HashSize]byte {
	j := depth - 1
	if !p.listed(j) {
		return empty[depth]
	}
	n := 0
	for i := 0; i < j/8; i++ {
		n += bits.OnesCount8(p.bitmap[i])
	}
	n += bits.OnesCount8(p.bitmap[j/8] >> (8 - j%8))
	return p.hashes[n]
}

func (p Proof) listed(j int) bool { return p.bitmap[j/8]&(0x80>>(j%8)) != 0 }

// Marshal returns the proof's encoding: bitmap (32 bytes) || hashes.
func (p Proof) Marshal() []byte {
	b := make([]byte, 0, bitmapSize+len(p.hashes)*HashSize)
	b = append(b, p.bitmap[:]...)
	for _, h := range p.hashes {
		b = append(b, h[:]...)
	}
	return b
}

// ParseProof parses a map proof. It accepts only the one encoding of a proof:
// exactly one hash for each bit set in the bitmap, none of them the empty hash
// of its depth.
func ParseProof(b []byte) (Proof, error) {
	if len(b) < bitmapSize {
		return Proof{}, fmt.Errorf("%w: %d bytes is shorter than the %d-byte bitmap", ErrMalformedProof, len(b), bitmapSize)
	}
	var p Proof
	copy(p.bitmap[:], b)
	n := 0
	for _, c := range p.bitmap {
		n += bits.OnesCount8(c)
	}
	// SPEC(state-map): exactly popcount(bitmap) hashes.
	if want := bitmapSize + n*HashSize; len(b) != want {
		return Proof{}, fmt.Errorf("%w: the bitmap lists %d hashes, so the proof is %d bytes; got %d", ErrMalformedProof, n, want, len(b))
	}
	p.hashes = make([][HashSize]byte, 0, n)
	rest := b[bitmapSize:]
	for j := 0; j < Depth; j++ {
		if !p.listed(j) {
			continue
		}
		var h [HashSize]byte
		copy(h[:], rest)
		rest = rest[HashSize:]
		// SPEC(state-map): a listed hash equal to the empty hash of its depth is
		// refused, so a proof has one encoding.
		if h == empty[j+1] {
			return Proof{}, fmt.Errorf("%w: the sibling at depth %d is listed but is the empty hash; it must be left out", ErrMalformedProof, j+1)
		}
		p.hashes = append(p.hashes, h)
	}
	return p, nil
}

// Root returns the map root that the proof gives for key k holding record, or
// for k absent when record is nil. An empty, non-nil record is a present one.
func (p Proof) Root(k Key, record []byte) [HashSize]byte {
	h := empty[Depth]
	if record != nil {
		h = LeafHash(k, record)
	}
	next := len(p.hashes) - 1
	for d := Depth; d >= 1; d-- {
		sib := empty[d]
		if p.listed(d - 1) {
			sib = p.hashes[next]
			next--
		}
		if k.Bit(d-1) == 0 {
			h = NodeHash(h, sib)
		} else {
			h = NodeHash(sib, h)
		}
	}
	return h
}

// Verify checks that the map of the given root holds record at key k, or that
// k is absent from it when record is nil. It returns ErrProofMismatch if not.
func (p Proof) Verify(root [HashSize]byte, k Key, record []byte) error {
	if p.Root(k, record) == root {
		return nil
	}
	what := "holding the record"
	if record == nil {
		what = "being absent"
	}
	return fmt.Errorf("%w: key %s %s does not give map root %s", ErrProofMismatch, hex.EncodeToString(k[:]), what, hex.EncodeToString(root[:]))
}

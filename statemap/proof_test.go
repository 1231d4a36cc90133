package statemap_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tabularium/tabularium/statemap"
)

// testMap returns a map of n leaves with fixed pseudo-random keys, some of
// them sharing long prefixes so that proofs have deep siblings, and keys
// absent from it, some next to present ones.
func testMap(n int) (leaves []refLeaf, absent [][32]byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		var k [32]byte
		for j := range k {
			k[j] = byte(rng.Uint32())
		}
		leaves = append(leaves, refLeaf{key: k, record: fmt.Appendf(nil, "record %d", i)})
		if i%5 == 0 {
			k[31] ^= 1 // a neighbour that differs only in the last bit
			leaves = append(leaves, refLeaf{key: k, record: []byte{}})
			k[20] ^= 0x10
			absent = append(absent, k)
		}
	}
	for i := 0; i < 4; i++ {
		var k [32]byte
		for j := range k {
			k[j] = byte(rng.Uint32())
		}
		absent = append(absent, k)
	}
	if len(leaves) > 0 {
		last := leaves[len(leaves)-1].key
		last[31] ^= 2
		absent = append(absent, last)
	}
	return refSort(leaves), absent
}

func parse(t *testing.T, b []byte) statemap.Proof {
	t.Helper()
	p, err := statemap.ParseProof(b)
	if err != nil {
		t.Fatalf("ParseProof: %v", err)
	}
	return p
}

func TestProofAgainstReference(t *testing.T) {
	for _, n := range []int{0, 1, 2, 13} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			leaves, absent := testMap(n)
			root := refRoot(leaves, 0)
			check := func(k [32]byte, record []byte) {
				sib := refSiblings(leaves, k)
				enc := refProof(sib)
				p := statemap.NewProof(sib)
				if !bytes.Equal(p.Marshal(), enc) {
					t.Fatalf("NewProof(%x).Marshal() differs from the reference encoding", k)
				}
				q := parse(t, enc)
				if !bytes.Equal(q.Marshal(), enc) {
					t.Fatalf("Marshal(ParseProof(b)) != b")
				}
				for d := 1; d <= 256; d++ {
					if q.Sibling(d) != sib[d-1] {
						t.Fatalf("Sibling(%d) = %x, want %x", d, q.Sibling(d), sib[d-1])
					}
				}
				if err := q.Verify(root, k, record); err != nil {
					t.Errorf("Verify(%x, %q): %v", k, record, err)
				}
			}
			for _, l := range leaves {
				check(l.key, l.record)
			}
			for _, k := range absent {
				check(k, nil)
			}
		})
	}
}

func TestEmptyAndSingletonMaps(t *testing.T) {
	var p statemap.Proof
	k := mustKey("land/1", nil)
	if err := p.Verify(statemap.EmptyRoot, k, nil); err != nil {
		t.Errorf("absence from the empty map: %v", err)
	}
	if err := p.Verify(statemap.EmptyRoot, k, []byte("x")); !errors.Is(err, statemap.ErrProofMismatch) {
		t.Errorf("presence in the empty map: %v, want ErrProofMismatch", err)
	}
	one := refRoot([]refLeaf{{key: k, record: []byte("x")}}, 0)
	if err := p.Verify(one, k, []byte("x")); err != nil {
		t.Errorf("the one leaf of a map: %v", err)
	}
	if len(p.Marshal()) != 32 {
		t.Errorf("the zero proof is %d bytes, want 32", len(p.Marshal()))
	}
}

// proofCases returns a presence and an absence proof of testMap(13).
func proofCases() (root [32]byte, cases []struct {
	key    [32]byte
	record []byte
	proof  []byte
}) {
	leaves, absent := testMap(13)
	root = refRoot(leaves, 0)
	add := func(k [32]byte, rec []byte) {
		cases = append(cases, struct {
			key    [32]byte
			record []byte
			proof  []byte
		}{k, rec, refProof(refSiblings(leaves, k))})
	}
	add(leaves[3].key, leaves[3].record)
	add(absent[0], nil)
	return root, cases
}

func TestProofRefusesEveryBitFlip(t *testing.T) {
	root, cases := proofCases()
	leaves, _ := testMap(13)
	present := map[[32]byte]bool{}
	for _, l := range leaves {
		present[l.key] = true
	}
	for _, c := range cases {
		for i := 0; i < len(c.proof)*8; i++ {
			b := bytes.Clone(c.proof)
			b[i/8] ^= 0x80 >> (i % 8)
			p, err := statemap.ParseProof(b)
			if err == nil {
				err = p.Verify(root, c.key, c.record)
			}
			if err == nil {
				t.Fatalf("proof with bit %d flipped verifies", i)
			}
		}
		p := parse(t, c.proof)
		for i := 0; i < 256; i++ {
			k := c.key
			k[i/8] ^= 0x80 >> (i % 8)
			// A proof of absence of K also proves, rightly, the absence of
			// every key in the empty subtree around K; it may never pass for
			// a key that is present, nor a proof of presence for another key.
			if p.Verify(root, k, c.record) == nil && (c.record != nil || present[k]) {
				t.Fatalf("proof verifies for the key with bit %d flipped", i)
			}
		}
		for i := 0; i < len(c.record)*8; i++ {
			r := bytes.Clone(c.record)
			r[i/8] ^= 0x80 >> (i % 8)
			if p.Verify(root, c.key, r) == nil {
				t.Fatalf("proof verifies for the record with bit %d flipped", i)
			}
		}
		for i := 0; i < 256; i++ {
			r := root
			r[i/8] ^= 0x80 >> (i % 8)
			if p.Verify(r, c.key, c.record) == nil {
				t.Fatalf("proof verifies for the root with bit %d flipped", i)
			}
		}
	}
}

func TestProofOfOneKeyNeverVerifiesForAnother(t *testing.T) {
	leaves, absent := testMap(13)
	root := refRoot(leaves, 0)
	type kr struct {
		key    [32]byte
		record []byte
	}
	var all []kr
	for _, l := range leaves {
		all = append(all, kr{l.key, l.record})
	}
	for _, k := range absent {
		all = append(all, kr{k, nil})
	}
	for _, a := range all {
		p := parse(t, refProof(refSiblings(leaves, a.key)))
		for _, b := range all {
			if a.key == b.key {
				continue
			}
			for _, rec := range [][]byte{b.record, a.record, nil} {
				if p.Verify(root, b.key, rec) == nil {
					t.Fatalf("the proof of %x verifies for %x (record %q)", a.key, b.key, rec)
				}
			}
		}
	}
}

func TestAbsenceIsNeverPresence(t *testing.T) {
	leaves, absent := testMap(13)
	root := refRoot(leaves, 0)
	for _, l := range leaves {
		p := parse(t, refProof(refSiblings(leaves, l.key)))
		if err := p.Verify(root, l.key, nil); !errors.Is(err, statemap.ErrProofMismatch) {
			t.Errorf("a present key %x is proven absent: %v", l.key, err)
		}
	}
	for _, k := range absent {
		p := parse(t, refProof(refSiblings(leaves, k)))
		for _, rec := range [][]byte{{}, []byte("record 0"), leaves[0].record} {
			if err := p.Verify(root, k, rec); !errors.Is(err, statemap.ErrProofMismatch) {
				t.Errorf("an absent key %x is proven present with %q: %v", k, rec, err)
			}
		}
	}
}

func TestParseProofIsStrict(t *testing.T) {
	_, cases := proofCases()
	good := cases[0].proof
	emptyListed := make([]byte, 32)
	emptyListed[31] = 1 // the sibling at depth 256 is listed...
	e := statemap.EmptyHash(256)
	emptyListed = append(emptyListed, e[:]...) // ...and is the empty hash
	tests := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"short bitmap", make([]byte, 31)},
		{"missing hash", good[:len(good)-32]},
		{"truncated hash", good[:len(good)-1]},
		{"extra byte", append(bytes.Clone(good), 0)},
		{"extra hash", append(bytes.Clone(good), good[32:64]...)},
		{"empty hash listed", emptyListed},
		{"too long", make([]byte, statemap.MaxProofSize+32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := statemap.ParseProof(tt.b); !errors.Is(err, statemap.ErrMalformedProof) {
				t.Errorf("ParseProof: %v, want ErrMalformedProof", err)
			}
		})
	}
}

func FuzzParseProof(f *testing.F) {
	_, cases := proofCases()
	for _, c := range cases {
		f.Add(c.proof)
	}
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := statemap.ParseProof(b)
		if err != nil {
			if !errors.Is(err, statemap.ErrMalformedProof) {
				t.Fatalf("error %v is not ErrMalformedProof", err)
			}
			return
		}
		if !bytes.Equal(p.Marshal(), b) {
			t.Fatalf("Marshal(ParseProof(%x)) = %x", b, p.Marshal())
		}
		var sib [256][32]byte
		for d := 1; d <= 256; d++ {
			sib[d-1] = p.Sibling(d)
		}
		if !bytes.Equal(statemap.NewProof(&sib).Marshal(), b) {
			t.Fatalf("NewProof of the siblings does not give the proof back")
		}
	})
}

package tree_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/tabularium/tabularium/statemap"
	"github.com/tabularium/tabularium/statemap/tree"
)

// TestVectors builds the map of statemap/testdata/vectors.json (computed by
// the pure package's reference) and checks that the tree gives its root and
// exactly its proofs.
func TestVectors(t *testing.T) {
	b, err := os.ReadFile("../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		ID, Doc, Proof string
		Record         *string
	}
	var v struct {
		Leaves, Proofs []object
		Root           string
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	key := func(o object) statemap.Key {
		doc, _ := hex.DecodeString(o.Doc)
		k, err := statemap.ObjectKey(o.ID, doc)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	forEachStore(t, func(t *testing.T, s store, db func() *sql.DB) {
		ctx := context.Background()
		tr := openTree(t, s, db(), "m_")
		var batch []tree.Leaf
		for _, o := range v.Leaves {
			rec, _ := hex.DecodeString(*o.Record)
			batch = append(batch, tree.Leaf{Key: key(o), Hash: statemap.LeafHash(key(o), rec)})
		}
		root, err := tr.Update(ctx, 1, batch)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(root[:]) != v.Root {
			t.Fatalf("root %x, the vectors say %s", root, v.Root)
		}
		for _, o := range v.Proofs {
			p, err := tr.Prove(ctx, 1, key(o))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(p.Marshal()); got != o.Proof {
				t.Errorf("proof of %s: %s, the vectors say %s", o.ID, got, o.Proof)
			}
		}
	})
}

// TestTreeProofsRefuseEveryBitFlip flips each bit of a proof the tree made,
// of presence and of absence, in a map where proofs have many siblings.
func TestTreeProofsRefuseEveryBitFlip(t *testing.T) {
	ctx := context.Background()
	s := stores[0]
	tr := openTree(t, s, s.open(t)(), "m_")
	m := refMap{}
	var batch []tree.Leaf
	for i := 0; i < 300; i++ {
		k, _ := statemap.ObjectKey("land/"+hex.EncodeToString([]byte{byte(i), byte(i >> 8)}), nil)
		rec := []byte{byte(i)}
		batch = append(batch, tree.Leaf{Key: k, Hash: statemap.LeafHash(k, rec)})
		m[k] = batch[i].Hash
	}
	root, err := tr.Update(ctx, 1, batch)
	if err != nil {
		t.Fatal(err)
	}
	present, _ := statemap.ObjectKey("land/0700", nil)
	absent, _ := statemap.ObjectKey("land/absent", nil)
	for _, c := range []struct {
		key    statemap.Key
		record []byte
	}{{present, []byte{7}}, {absent, nil}} {
		p, err := tr.Prove(ctx, 1, c.key)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(root, c.key, c.record); err != nil {
			t.Fatal(err)
		}
		good := p.Marshal()
		for i := 0; i < len(good)*8; i++ {
			b := bytes.Clone(good)
			b[i/8] ^= 0x80 >> (i % 8)
			q, err := statemap.ParseProof(b)
			if err == nil {
				err = q.Verify(root, c.key, c.record)
			}
			if err == nil {
				t.Fatalf("the proof with bit %d flipped verifies", i)
			}
		}
		for other := range m {
			if other != c.key && p.Verify(root, other, c.record) == nil {
				t.Fatalf("the proof of %x verifies for %x", c.key, other)
			}
		}
	}
}

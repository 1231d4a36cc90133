package statemap_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/tabularium/tabularium/statemap"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the reference in reference_test.go")

// vectors is the layout of testdata/vectors.json: a small map, its root, and
// proofs of presence and absence. Bytes are hex; a null record is absence.
type vectors struct {
	Comment string         `json:"comment"`
	Leaves  []vectorObject `json:"leaves"`
	Root    string         `json:"root"`
	Entry   string         `json:"entry"`
	Proofs  []vectorObject `json:"proofs"`
}

type vectorObject struct {
	ID     string  `json:"id"`
	Doc    string  `json:"doc,omitempty"`
	Key    string  `json:"key"`
	Record *string `json:"record"`
	Proof  string  `json:"proof,omitempty"`
}

func vectorDoc(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func str(s string) *string { return &s }

// makeVectors computes the vectors with the reference.
func makeVectors(t *testing.T) vectors {
	dip, vac := vectorDoc("diploma document"), vectorDoc("vaccination document")
	objs := []vectorObject{
		{ID: "land/01:01:0001", Record: str(hex.EncodeToString([]byte("owner A, 1/1")))},
		{ID: "land/01:01:0002", Record: str(hex.EncodeToString([]byte("owner B, 1/2; owner C, 1/2; pledged")))},
		{ID: "batch/LOT-7", Record: str(hex.EncodeToString([]byte("recalled")))},
		{ID: "role/registrar/ed25519:AAAAC3NzaC1lZDI1NTE5", Record: str(hex.EncodeToString([]byte("granted")))},
		{ID: "diploma/" + vectorDoc("diploma 1"), Doc: dip, Record: str(hex.EncodeToString([]byte("issued")))},
		{ID: "vaccination/" + vectorDoc("certificate 1"), Doc: vac, Record: str(hex.EncodeToString([]byte("revoked")))},
	}
	var leaves []refLeaf
	for i := range objs {
		doc, _ := hex.DecodeString(objs[i].Doc)
		k := mustKey(objs[i].ID, doc)
		objs[i].Key = hex.EncodeToString(k[:])
		rec, _ := hex.DecodeString(*objs[i].Record)
		leaves = append(leaves, refLeaf{key: k, record: rec})
	}
	leaves = refSort(leaves)
	root := refRoot(leaves, 0)
	v := vectors{
		Comment: "A map of six objects (docs/design/state-map.md). Bytes are hex; a null record is a proof of absence. Made by go test ./statemap -run TestVectors -update.",
		Leaves:  objs,
		Root:    hex.EncodeToString(root[:]),
		Entry:   string(statemap.Entry{Origin: "registry.example.gov/land", Size: 12, Hash: sha256.Sum256([]byte("input root")), Root: root, Objects: uint64(len(objs))}.Marshal()),
	}
	proofs := []vectorObject{objs[0], objs[4],
		{ID: "land/99:99:9999"},
		{ID: objs[4].ID, Doc: vectorDoc("a guessed document")}, // the diploma, addressed without its document
	}
	for _, p := range proofs {
		doc, _ := hex.DecodeString(p.Doc)
		k := mustKey(p.ID, doc)
		p.Key = hex.EncodeToString(k[:])
		p.Proof = hex.EncodeToString(refProof(refSiblings(leaves, k)))
		v.Proofs = append(v.Proofs, p)
	}
	return v
}

func TestVectors(t *testing.T) {
	want := makeVectors(t)
	if *update {
		b, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/vectors.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	// The file is checked with the package alone, against what it says.
	root, _ := hex.DecodeString(v.Root)
	e, err := statemap.ParseEntry([]byte(v.Entry))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.Root[:], root) || e.Objects != uint64(len(v.Leaves)) {
		t.Errorf("entry %+v does not carry the root %s and %d objects", e, v.Root, len(v.Leaves))
	}
	for _, o := range append(v.Leaves, v.Proofs...) {
		doc, _ := hex.DecodeString(o.Doc)
		k, err := statemap.ObjectKey(o.ID, doc)
		if err != nil || hex.EncodeToString(k[:]) != o.Key {
			t.Errorf("ObjectKey(%s) = %x, %v; the vectors say %s", o.ID, k, err, o.Key)
		}
	}
	for _, o := range v.Proofs {
		pb, _ := hex.DecodeString(o.Proof)
		p, err := statemap.ParseProof(pb)
		if err != nil {
			t.Fatalf("proof of %s: %v", o.ID, err)
		}
		var rec []byte
		if o.Record != nil {
			rec, _ = hex.DecodeString(*o.Record)
			rec = append([]byte{}, rec...)
		}
		doc, _ := hex.DecodeString(o.Doc)
		k := mustKey(o.ID, doc)
		if err := p.Verify(e.Root, k, rec); err != nil {
			t.Errorf("proof of %s: %v", o.ID, err)
		}
	}
	// And the reference agrees with the file.
	if got, _ := json.Marshal(want); !bytes.Equal(got, mustCompact(t, b)) {
		t.Errorf("testdata/vectors.json differs from the reference; run go test ./statemap -run TestVectors -update and look at the diff")
	}
}

func mustCompact(t *testing.T, b []byte) []byte {
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}

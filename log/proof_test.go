package log

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// testTree returns the leaf hashes of a tree of n entries and its stored hashes.
func testTree(t *testing.T, n int) ([][32]byte, memHashes) {
	t.Helper()
	leaves := make([][32]byte, n)
	for i := range leaves {
		leaves[i] = LeafHash([]byte{byte(i)})
	}
	return leaves, buildTree(t, leaves)
}

func treeRoot(t *testing.T, m memHashes, n int) [32]byte {
	t.Helper()
	h, err := tlog.TreeHash(int64(n), m)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestInclusionProofErrorCarriesEvidence(t *testing.T) {
	leaves, tree := testTree(t, 7)
	root := treeRoot(t, tree, 7)
	p, err := tlog.ProveRecord(7, 3, tree)
	if err != nil {
		t.Fatal(err)
	}
	proof := toBytes(p)
	if err := VerifyInclusion(3, 7, leaves[3], proof, root); err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	tests := []struct {
		name        string
		index, size uint64
		leaf        [32]byte
		proof       [][]byte
		root        [32]byte
	}{
		{"wrong leaf", 3, 7, leaves[4], proof, root},
		{"wrong index", 4, 7, leaves[3], proof, root},
		// A size whose proof has a different shape. (Sizes 5 to 8 share this
		// proof's shape, so the root alone binds the proof to its tree.)
		{"wrong size", 3, 4, leaves[3], proof, root},
		{"wrong root", 3, 7, leaves[3], proof, leaves[0]},
		{"short proof", 3, 7, leaves[3], proof[:len(proof)-1], root},
		{"long proof", 3, 7, leaves[3], append(proof[:len(proof):len(proof)], root[:]), root},
		{"index beyond size", 7, 7, leaves[3], proof, root},
		{"empty tree", 0, 0, leaves[3], nil, EmptyRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyInclusion(tt.index, tt.size, tt.leaf, tt.proof, tt.root)
			if !errors.Is(err, ErrBadProof) {
				t.Fatalf("VerifyInclusion = %v, want ErrBadProof", err)
			}
			var pe *ProofError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ProofError", err)
			}
			if pe.Kind != "inclusion" || pe.Index != tt.index || pe.Size != tt.size {
				t.Errorf("evidence: kind %q index %d size %d", pe.Kind, pe.Index, pe.Size)
			}
			if !bytes.Equal(pe.Root2, tt.root[:]) || len(pe.Proof) != len(tt.proof) || pe.Err == nil {
				t.Errorf("evidence: root %x proof %d hashes err %v", pe.Root2, len(pe.Proof), pe.Err)
			}
			if !strings.Contains(err.Error(), "inclusion proof") {
				t.Errorf("message %q does not say what failed", err)
			}
		})
	}
}

func TestConsistencyProofErrorCarriesEvidence(t *testing.T) {
	_, tree := testTree(t, 9)
	root4, root9 := treeRoot(t, tree, 4), treeRoot(t, tree, 9)
	p, err := tlog.ProveTree(9, 4, tree)
	if err != nil {
		t.Fatal(err)
	}
	proof := toBytes(p)
	if err := VerifyConsistency(4, 9, proof, root4, root9); err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	var bogus [32]byte
	bogus[0] = 1
	tests := []struct {
		name         string
		size1, size2 uint64
		proof        [][]byte
		root1, root2 [32]byte
	}{
		{"wrong old root", 4, 9, proof, root9, root9},
		{"wrong new root", 4, 9, proof, root4, root4},
		{"wrong old size", 5, 9, proof, root4, root9},
		{"wrong new size", 4, 8, proof, root4, root9},
		{"sizes reversed", 9, 4, proof, root9, root4},
		{"truncated proof", 4, 9, proof[:len(proof)-1], root4, root9},
		{"same size, different roots", 4, 4, nil, root4, root9},
		{"same size, proof not empty", 9, 9, proof, root9, root9},
		// A tree of size 0 has one root, the hash of the empty string.
		{"empty tree with a forged root", 0, 9, nil, bogus, root9},
		{"two empty trees with a forged root", 0, 0, nil, bogus, bogus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyConsistency(tt.size1, tt.size2, tt.proof, tt.root1, tt.root2)
			if !errors.Is(err, ErrBadProof) {
				t.Fatalf("VerifyConsistency = %v, want ErrBadProof", err)
			}
			var pe *ProofError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ProofError", err)
			}
			if pe.Kind != "consistency" || pe.Index != tt.size1 || pe.Size != tt.size2 {
				t.Errorf("evidence: kind %q sizes %d → %d", pe.Kind, pe.Index, pe.Size)
			}
			if !bytes.Equal(pe.Root1, tt.root1[:]) || !bytes.Equal(pe.Root2, tt.root2[:]) || len(pe.Proof) != len(tt.proof) || pe.Err == nil {
				t.Errorf("evidence: roots %x %x, proof %d hashes, err %v", pe.Root1, pe.Root2, len(pe.Proof), pe.Err)
			}
			if !strings.Contains(err.Error(), "consistency proof") {
				t.Errorf("message %q does not say what failed", err)
			}
		})
	}
	// From the empty tree, with its real root, anything is consistent.
	if err := VerifyConsistency(0, 9, nil, EmptyRoot, root9); err != nil {
		t.Errorf("empty tree to size 9: %v", err)
	}
}

package log

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// ErrBadProof is returned when an inclusion or consistency proof does not verify.
// It is wrapped in a *ProofError that carries the evidence.
var ErrBadProof = errors.New("proof does not verify")

// ProofError carries the evidence of a proof that failed to verify.
type ProofError struct {
	Kind         string // "inclusion" or "consistency"
	Index, Size  uint64 // inclusion: leaf index and tree size; consistency: the two sizes
	Proof        [][]byte
	Root1, Root2 []byte // consistency: old and new roots; inclusion: the root in Root2
	Err          error
}

func (e *ProofError) Error() string {
	if e.Kind == "inclusion" {
		return fmt.Sprintf("inclusion proof of leaf %d in tree of size %d: %v", e.Index, e.Size, e.Err)
	}
	return fmt.Sprintf("consistency proof from size %d to %d: %v", e.Index, e.Size, e.Err)
}

func (e *ProofError) Unwrap() []error { return []error{ErrBadProof, e.Err} }

// VerifyInclusion checks that the leaf with leafHash is at index in the tree of the
// given size and root.
func VerifyInclusion(index, size uint64, leafHash [32]byte, p [][]byte, root [32]byte) error {
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash[:], p, root[:]); err != nil {
		return &ProofError{Kind: "inclusion", Index: index, Size: size, Proof: p, Root2: root[:], Err: err}
	}
	return nil
}

// VerifyConsistency checks that the tree of size2 and root2 extends the tree of size1
// and root1. A tree of size 0 must have the root EmptyRoot.
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 [32]byte) error {
	// The proof library accepts any root for an empty tree; RFC 6962 defines it as
	// the hash of the empty string, and any other value is a false claim.
	if size1 == 0 && root1 != EmptyRoot {
		return &ProofError{Kind: "consistency", Index: size1, Size: size2, Proof: p, Root1: root1[:], Root2: root2[:], Err: errors.New("tree of size 0 does not have the empty root")}
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, p, root1[:], root2[:]); err != nil {
		return &ProofError{Kind: "consistency", Index: size1, Size: size2, Proof: p, Root1: root1[:], Root2: root2[:], Err: err}
	}
	return nil
}

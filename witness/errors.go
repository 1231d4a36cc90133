package witness

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by [Witness.AddCheckpoint]. Each says how the caller
// must react; [StatusCode] maps them to the HTTP status of c2sp.org/tlog-witness.
var (
	// ErrUnknownLog: the checkpoint's origin is not configured. Not retryable.
	ErrUnknownLog = errors.New("unknown log origin")
	// ErrUnverified: no signature verifies with the log's key. Not retryable.
	ErrUnverified = errors.New("no valid signature from the log's key")
	// ErrMalformed: the request body or checkpoint is not in canonical form.
	ErrMalformed = errors.New("malformed add-checkpoint request")
	// ErrOldSizeTooLarge: the old size is larger than the checkpoint size.
	ErrOldSizeTooLarge = errors.New("old size is larger than the checkpoint size")
	// ErrOldSizeMismatch: the old size is not the size of the latest cosigned
	// checkpoint. The error is a *ConflictError; retry with its Size.
	ErrOldSizeMismatch = errors.New("old size is not the latest cosigned size")
	// ErrInconsistent: the consistency proof does not verify, a proof was sent
	// from size zero, or an empty tree has a root other than the empty hash.
	// It may be evidence of log misbehaviour.
	ErrInconsistent = errors.New("checkpoint is not consistent with the cosigned one")
	// ErrFork: the checkpoint has the size of the latest cosigned checkpoint but
	// another root hash: the log presented two different trees of one size. The
	// error is a *ForkError carrying both checkpoints as evidence (422).
	ErrFork = errors.New("same tree size with a different root hash")
)

// ConflictError reports a request that does not extend the latest cosigned
// checkpoint. Size is the size of that checkpoint; Latest and Submitted are
// the stored and the submitted signed checkpoints, when known.
type ConflictError struct {
	Size      uint64
	Latest    []byte
	Submitted []byte
	Err       error // ErrOldSizeMismatch
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: latest cosigned size is %d", e.Err, e.Size)
}

func (e *ConflictError) Unwrap() error { return e.Err }

// ForkError carries the evidence of a fork: the stored checkpoint and a validly
// signed checkpoint of the same size with another root. It wraps ErrFork.
type ForkError struct {
	Latest, Submitted []byte
}

func (e *ForkError) Error() string { return ErrFork.Error() }
func (e *ForkError) Unwrap() error { return ErrFork }

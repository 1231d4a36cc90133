package log

import (
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// ErrUnverified is returned when a checkpoint carries no valid signature from the
// expected log key.
var ErrUnverified = errors.New("no valid signature from the log")

// MaxNoteSize bounds a signed checkpoint note, body and signatures together.
const MaxNoteSize = 64 << 10

// OpenCheckpoint verifies a signed checkpoint note against the log's verifier and
// parses its body strictly. The checkpoint's origin must equal origin. Signatures by
// other keys are kept in the returned note's UnverifiedSigs unless they verify with
// one of others, in which case they are in Sigs. A note with a signature line whose
// base64 is not canonical is refused with ErrMalformedCheckpoint.
func OpenCheckpoint(msg []byte, origin string, logKey note.Verifier, others ...note.Verifier) (Checkpoint, *note.Note, error) {
	if len(msg) > MaxNoteSize {
		return Checkpoint{}, nil, fmt.Errorf("%w: note of %d bytes is over the limit", ErrMalformedCheckpoint, len(msg))
	}
	vs := append([]note.Verifier{logKey}, others...)
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrUnverified, err)
	}
	// note.Open decodes signatures leniently, so a line whose base64 differs only in
	// its padding bits would verify as the same signature. Refuse such lines so that
	// exactly one encoding of each signature is accepted.
	for _, s := range append(n.Sigs[:len(n.Sigs):len(n.Sigs)], n.UnverifiedSigs...) {
		raw, err := base64.StdEncoding.Strict().DecodeString(s.Base64)
		if err != nil || base64.StdEncoding.EncodeToString(raw) != s.Base64 {
			return Checkpoint{}, nil, fmt.Errorf("%w: signature by %s is not canonical base64", ErrMalformedCheckpoint, s.Name)
		}
	}
	signedByLog := false
	for _, s := range n.Sigs {
		if s.Name == logKey.Name() && s.Hash == logKey.KeyHash() {
			signedByLog = true
		}
	}
	if !signedByLog {
		return Checkpoint{}, nil, fmt.Errorf("%w: signed only by others", ErrUnverified)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin %q, want %q", ErrUnverified, c.Origin, origin)
	}
	return c, n, nil
}

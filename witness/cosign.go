package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
)

// AddCheckpoint checks a checkpoint against the latest cosigned one of its log
// and, if it is consistent, records it and returns the witness's cosignature as
// note signature lines. The checks run in the order of c2sp.org/tlog-witness;
// errors wrap the sentinel errors of this package. No cosignature is returned
// unless the new checkpoint is durably stored.
func (w *Witness) AddCheckpoint(ctx context.Context, req AddCheckpointRequest) ([]byte, error) {
	origin, _, _ := bytes.Cut(req.Note, []byte("\n"))
	sigs, err := w.addCheckpoint(ctx, string(origin), req)
	w.report(ctx, string(origin), req, err)
	return sigs, err
}

func (w *Witness) addCheckpoint(ctx context.Context, origin string, req AddCheckpointRequest) ([]byte, error) {
	l, ok := w.logs[origin]
	if !ok {
		// SPEC(tlog-witness): "If the checkpoint origin is unknown, the witness
		// MUST respond with a 404 Not Found".
		return nil, fmt.Errorf("%w: %q", ErrUnknownLog, truncate([]byte(origin)))
	}
	// SPEC(tlog-witness): "The witness MUST verify the checkpoint signature
	// against the public key(s) it trusts for the checkpoint origin, and it MUST
	// ignore signatures from unknown keys."
	cp, n, err := log.OpenCheckpoint(req.Note, l.Origin, l.verifier)
	switch {
	case errors.Is(err, log.ErrMalformedCheckpoint):
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrUnverified, err)
	}
	body := cp.Marshal()
	if string(body) != n.Text {
		return nil, fmt.Errorf("%w: checkpoint is not in canonical form", ErrMalformed)
	}
	// SPEC(tlog-witness): "The old size MUST be equal to or lower than the
	// checkpoint size. Otherwise, the witness MUST respond with a 400".
	if req.OldSize > cp.Size {
		return nil, fmt.Errorf("%w: old size %d, checkpoint size %d", ErrOldSizeTooLarge, req.OldSize, cp.Size)
	}
	// Keep only the log's own signature: unknown or forged lines never reach
	// the stored state.
	logSigs := onlyBy(n.Sigs, l.verifier)
	var cosig note.Signature
	err = w.store.Update(ctx, l.Origin, func(current []byte) ([]byte, error) {
		latest, err := w.openStored(l, current)
		if err != nil {
			return nil, err
		}
		if err := checkExtends(latest, cp, req, current); err != nil {
			return nil, err
		}
		if cosig, err = w.cosign(body); err != nil {
			return nil, err
		}
		return encodeNote(body, append(logSigs, cosig)), nil
	})
	if err != nil {
		return nil, err
	}
	return encodeSigs([]note.Signature{cosig}), nil
}

// checkExtends checks that cp, sent with req, extends latest, the checkpoint
// stored as current.
func checkExtends(latest, cp log.Checkpoint, req AddCheckpointRequest, current []byte) error {
	// SPEC(tlog-witness): "The witness MUST check that the old size matches the
	// size of the latest checkpoint it cosigned for the checkpoint's origin (or
	// zero if it never cosigned a checkpoint for that origin). If it doesn't
	// match, the witness MUST respond with a 409 Conflict".
	if req.OldSize != latest.Size {
		return &ConflictError{Size: latest.Size, Latest: current, Submitted: req.Note, Err: ErrOldSizeMismatch}
	}
	// SPEC(tlog-witness): "The proof MUST be empty if the old size is zero."
	if req.OldSize == 0 && len(req.Proof) > 0 {
		return fmt.Errorf("%w: non-empty proof from size 0", ErrInconsistent)
	}
	if cp.Size == 0 && cp.Hash != log.EmptyRoot {
		return fmt.Errorf("%w: empty tree with a root other than the empty hash", ErrInconsistent)
	}
	if cp.Size == latest.Size {
		if len(req.Proof) > 0 {
			return fmt.Errorf("%w: non-empty proof between equal sizes", ErrInconsistent)
		}
		// Between equal sizes the only consistency proof is the empty one, and it
		// verifies only if the roots are equal: a different root fails the proof
		// check, which the spec answers with 422 before its same-size check.
		if cp.Hash != latest.Hash {
			return &ForkError{Latest: current, Submitted: req.Note}
		}
		return nil
	}
	if req.OldSize == 0 {
		return nil // every tree extends the empty tree
	}
	// SPEC(tlog-witness): "If the Merkle Consistency Proof doesn't verify, the
	// witness MUST respond with a 422 Unprocessable Entity".
	if err := log.VerifyConsistency(latest.Size, cp.Size, req.Proof, latest.Hash, cp.Hash); err != nil {
		return fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	return nil
}

// openStored parses the stored note of l; nil stands for the empty tree.
func (w *Witness) openStored(l *knownLog, stored []byte) (log.Checkpoint, error) {
	if stored == nil {
		return log.Checkpoint{Origin: l.Origin, Hash: log.EmptyRoot}, nil
	}
	cp, _, err := log.OpenCheckpoint(stored, l.Origin, l.verifier)
	if err != nil {
		// The store is trusted; this means the log's key was changed in the
		// configuration or the store was edited by hand.
		return log.Checkpoint{}, fmt.Errorf("stored checkpoint of %q does not open with the configured key: %w", l.Origin, err)
	}
	return cp, nil
}

// cosign returns the witness's cosignature/v1 signature on a checkpoint body.
func (w *Witness) cosign(body []byte) (note.Signature, error) {
	sig, err := w.cosigner.Sign(body)
	if err != nil {
		return note.Signature{}, fmt.Errorf("cosigning: %w", err)
	}
	raw := binary.BigEndian.AppendUint32(nil, w.cosigner.KeyHash())
	return note.Signature{
		Name:   w.cosigner.Name(),
		Hash:   w.cosigner.KeyHash(),
		Base64: base64.StdEncoding.EncodeToString(append(raw, sig...)),
	}, nil
}

// onlyBy returns the signatures made by the key of v, in canonical base64.
func onlyBy(sigs []note.Signature, v note.Verifier) []note.Signature {
	var out []note.Signature
	for _, s := range sigs {
		if s.Name != v.Name() || s.Hash != v.KeyHash() {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(s.Base64); err == nil {
			s.Base64 = base64.StdEncoding.EncodeToString(raw)
			out = append(out, s)
		}
	}
	return out
}

// encodeSigs encodes note signature lines (c2sp.org/signed-note).
func encodeSigs(sigs []note.Signature) []byte {
	var b bytes.Buffer
	for _, s := range sigs {
		fmt.Fprintf(&b, "— %s %s\n", s.Name, s.Base64)
	}
	return b.Bytes()
}

// encodeNote encodes a signed note from its text and signatures.
func encodeNote(text []byte, sigs []note.Signature) []byte {
	return append(append(append([]byte{}, text...), '\n'), encodeSigs(sigs)...)
}

// Latest returns the latest checkpoint the witness cosigned for origin, as a
// note signed by the log and cosigned by the witness, or nil if there is none.
func (w *Witness) Latest(ctx context.Context, origin string) ([]byte, error) {
	if _, ok := w.logs[origin]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLog, origin)
	}
	return w.store.Load(ctx, origin)
}

package client

import (
	"errors"
	"fmt"
)

// Reasons a certificate is refused. Verify returns a *VerifyError that wraps
// exactly one of them; each names the check that failed, so that a person can
// tell a damaged file from a forged entry or an untrusted log.
var (
	// ErrUnknownLog: the trust policy lists no log for the checkpoint's origin.
	ErrUnknownLog = errors.New("log not in the trust policy")
	// ErrLogSignature: the checkpoint carries no valid signature by the log's key.
	ErrLogSignature = errors.New("checkpoint not signed by the log")
	// ErrBadCosignature: a cosignature by a witness of the policy does not verify.
	ErrBadCosignature = errors.New("invalid witness cosignature")
	// ErrUnknownSignature: the checkpoint carries a signature by a key the
	// policy does not know. Certificates are refused rather than trimmed, so
	// that any change to them is detected.
	ErrUnknownSignature = errors.New("signature by a key not in the trust policy")
	// ErrTooFewCosignatures: the valid cosignatures do not meet the quorum.
	ErrTooFewCosignatures = errors.New("too few witness cosignatures")
	// ErrStaleCosignatures: enough witnesses cosigned, but too long ago.
	ErrStaleCosignatures = errors.New("witness cosignatures too old")
	// ErrEntry: the entry is malformed or one of its signatures does not verify.
	ErrEntry = errors.New("entry refused")
	// ErrWrongLog: the entry was made for another log than the checkpoint's.
	ErrWrongLog = errors.New("entry belongs to another log")
	// ErrInclusion: the inclusion proof does not lead from the entry to the
	// checkpoint's root.
	ErrInclusion = errors.New("entry not proven in the log")
	// ErrOpening: an opening does not match the entry's document commitment.
	ErrOpening = errors.New("document opening does not match its commitment")
	// ErrGrant: a role grant the certificate carries is not a validly signed
	// role.grant entry of the log, proven in the checkpoint before the entry.
	ErrGrant = errors.New("role grant not proven in the log")
	// ErrRole: the grants do not prove a role the entry needs, a grant is not
	// needed, or a chain of grants does not end at a root key the verifier
	// trusts.
	ErrRole = errors.New("signer's role not proven")
)

// VerifyError is a refused certificate: Reason is one of the Err* values above
// and Err, if not nil, the underlying evidence (for example a *log.ProofError).
type VerifyError struct {
	Reason error
	Detail string
	Err    error
}

func (e *VerifyError) Error() string {
	s := e.Reason.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *VerifyError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

func refuse(reason, err error, format string, a ...any) *VerifyError {
	return &VerifyError{Reason: reason, Detail: fmt.Sprintf(format, a...), Err: err}
}

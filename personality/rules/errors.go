package rules

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tabularium/tabularium/personality/entry"
)

// Class groups refusals by what the submitter must do about them.
type Class int

const (
	// ClassMalformed: the entry is not well formed for its type (HTTP 400).
	ClassMalformed Class = iota
	// ClassForbidden: a signature is bad, missing, or its key lacks a role (HTTP 403).
	ClassForbidden
	// ClassConflict: the entry is well formed and signed but the registry's
	// rules refuse it in the current state (HTTP 409).
	ClassConflict
)

// HTTPStatus returns the status code of the class.
func (c Class) HTTPStatus() int {
	switch c {
	case ClassForbidden:
		return http.StatusForbidden
	case ClassConflict:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// Stable refusal codes.
const (
	CodeMalformed           = "malformed"
	CodeTooLarge            = "too-large"
	CodeWrongLog            = "wrong-log"
	CodeTypeNotAllowed      = "type-not-allowed"
	CodeWrongObject         = "wrong-object"
	CodeMissingDocument     = "missing-document"
	CodeBadSignature        = "bad-signature"
	CodeMissingSignature    = "missing-signature"
	CodeRoleNotHeld         = "role-not-held"
	CodeFourEyes            = "second-registrar-missing"
	CodeStalePrev           = "stale-prev"
	CodeUnknownObject       = "unknown-object"
	CodeObjectExists        = "object-exists"
	CodeObjectArrested      = "object-arrested"
	CodePledgeStanding      = "pledge-standing"
	CodeSharesNotOne        = "shares-not-one"
	CodeDuplicateParty      = "duplicate-party"
	CodeKeySuperseded       = "key-superseded"
	CodeKeyInUse            = "key-in-use"
	CodeUnknownPledge       = "unknown-pledge"
	CodeUnknownArrest       = "unknown-arrest"
	CodeUnknownOwnerSet     = "unknown-owner-set"
	CodeOwnersChanged       = "owners-changed"
	CodeNotBank             = "pledgee-not-bank"
	CodeRoleAlreadyHeld     = "role-already-held"
	CodeRoleNotActive       = "role-not-active"
	CodeRecoveryPending     = "recovery-pending"
	CodeNoRecovery          = "no-recovery"
	CodeRecoveryWaiting     = "recovery-waiting"
	CodeAlreadyRevoked      = "already-revoked"
	CodeBatchRecalled       = "batch-recalled"
	CodePositionOutOfOrder  = "position-out-of-order"
	CodeUnknownRole         = "unknown-role"
	CodeTimeInFuture        = "time-in-future"
	CodeTooManySignatures   = "too-many-signatures"
	CodeNoStanding          = "no-standing"
	CodeSignerReplaced      = "signer-replaced"
	CodeSameParty           = "same-party"
	CodeUnstatedEncumbrance = "encumbrance-unstated"
	CodeUnknownEncumbrance  = "unknown-encumbrance"
	// CodeStateUnavailable is not a refusal: the state could not be read. A
	// replayer must stop, not record the entry as rejected.
	CodeStateUnavailable = "state-unavailable"
)

// Error is a refusal of an entry.
type Error struct {
	Code    string // stable, kebab-case
	Message string // what is wrong and what to do about it
	Class   Class
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func refuse(class Class, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Class: class}
}

func malformed(code, format string, args ...any) *Error {
	return refuse(ClassMalformed, code, format, args...)
}

func forbidden(code, format string, args ...any) *Error {
	return refuse(ClassForbidden, code, format, args...)
}

func conflict(code, format string, args ...any) *Error {
	return refuse(ClassConflict, code, format, args...)
}

// FromParse turns an error of entry.Parse into a refusal.
func FromParse(err error) *Error {
	switch {
	case errors.Is(err, entry.ErrTooLarge):
		return malformed(CodeTooLarge, "the entry is larger than %d bytes; move documents off the log and commit to them", entry.MaxSize)
	case errors.Is(err, entry.ErrTooManySignatures):
		return malformed(CodeTooManySignatures, "the entry has too many signatures (%v); only the entry's parties sign it", err)
	case errors.Is(err, entry.ErrBadSignature):
		return forbidden(CodeBadSignature, "a signature does not verify (%v); have that party sign the final entry again", err)
	}
	return malformed(CodeMalformed, "the entry is not a well-formed, canonical Tabularium entry (%v); rebuild it with tab entry new", err)
}

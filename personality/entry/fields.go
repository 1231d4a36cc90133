package entry

import (
	"fmt"
	"regexp"
	"slices"
)

// Entry types. The prefix before the dot is the family: role and key entries are
// valid in every log; land, diploma and vaccination entries only in a log of that
// registry kind.
const (
	TypeRoleGrant          = "role.grant"
	TypeRoleRevoke         = "role.revoke"
	TypeKeyRotate          = "key.rotate"
	TypeKeyRecover         = "key.recover"
	TypeKeyRecoverCancel   = "key.recover-cancel"
	TypeKeyRecoverComplete = "key.recover-complete"

	TypeLandRegister   = "land.register"
	TypeLandTransfer   = "land.transfer"
	TypeLandPledge     = "land.pledge"
	TypeLandRelease    = "land.release"
	TypeLandArrest     = "land.arrest"
	TypeLandLift       = "land.lift"
	TypeLandCourtOrder = "land.court-order"
	TypeLandCorrect    = "land.correct"

	TypeDiplomaIssue  = "diploma.issue"
	TypeDiplomaRevoke = "diploma.revoke"

	TypeVaccinationIssue  = "vaccination.issue"
	TypeVaccinationRevoke = "vaccination.revoke"
	TypeVaccinationRecall = "vaccination.recall"
)

// RoleFields grant or revoke Role for Holder (role.grant, role.revoke).
type RoleFields struct {
	Role   string    `cbor:"role" json:"role"`
	Holder PublicKey `cbor:"holder" json:"holder"`
}

// KeyFields name the key that replaces the object's key (key.rotate, key.recover).
type KeyFields struct {
	New PublicKey `cbor:"new" json:"new"`
}

// NoFields is the empty field set of types whose meaning is all in the object,
// the signers and the documents.
type NoFields struct{}

// OwnersFields list an object's owners (land.register) or, in a correction, the
// unchanged owners the correction asserts.
type OwnersFields struct {
	Owners []Share `cbor:"owners" json:"owners"`
}

// TransferFields list the buyers and their shares (land.transfer).
type TransferFields struct {
	Buyers []Share `cbor:"buyers" json:"buyers"`
}

// PledgeFields name the bank the pledge is granted to (land.pledge).
type PledgeFields struct {
	Pledgee PublicKey `cbor:"pledgee" json:"pledgee"`
}

// ReleaseFields name the pledge to release by its number (land.release).
type ReleaseFields struct {
	Pledge uint64 `cbor:"pledge" json:"pledge"`
}

// LiftFields name the arrest to lift by its number (land.lift).
type LiftFields struct {
	Arrest uint64 `cbor:"arrest" json:"arrest"`
}

// CourtOrderFields name the log index of the entry that began the owner set the
// court restores (land.court-order), and what becomes of every encumbrance —
// pledge or arrest, by its number — that was created after that entry and
// still stands: Keep lists those that stand on, Void those the order lifts.
// The rules refuse an order that leaves a standing one unstated. Both lists
// are strictly increasing and disjoint; an empty list is omitted.
type CourtOrderFields struct {
	Restore uint64   `cbor:"restore" json:"restore"`
	Keep    []uint64 `cbor:"keep,omitempty" json:"keep,omitempty"`
	Void    []uint64 `cbor:"void,omitempty" json:"void,omitempty"`
}

// HolderFields name the holder of a credential (diploma.issue).
type HolderFields struct {
	Holder PublicKey `cbor:"holder" json:"holder"`
}

// BatchFields name the vaccine batch of a certificate (vaccination.issue).
type BatchFields struct {
	Batch string `cbor:"batch" json:"batch"`
}

var schemas = map[string]func() any{
	TypeRoleGrant:          func() any { return &RoleFields{} },
	TypeRoleRevoke:         func() any { return &RoleFields{} },
	TypeKeyRotate:          func() any { return &KeyFields{} },
	TypeKeyRecover:         func() any { return &KeyFields{} },
	TypeKeyRecoverCancel:   func() any { return &NoFields{} },
	TypeKeyRecoverComplete: func() any { return &NoFields{} },
	TypeLandRegister:       func() any { return &OwnersFields{} },
	TypeLandTransfer:       func() any { return &TransferFields{} },
	TypeLandPledge:         func() any { return &PledgeFields{} },
	TypeLandRelease:        func() any { return &ReleaseFields{} },
	TypeLandArrest:         func() any { return &NoFields{} },
	TypeLandLift:           func() any { return &LiftFields{} },
	TypeLandCourtOrder:     func() any { return &CourtOrderFields{} },
	TypeLandCorrect:        func() any { return &OwnersFields{} },
	TypeDiplomaIssue:       func() any { return &HolderFields{} },
	TypeDiplomaRevoke:      func() any { return &NoFields{} },
	TypeVaccinationIssue:   func() any { return &BatchFields{} },
	TypeVaccinationRevoke:  func() any { return &NoFields{} },
	TypeVaccinationRecall:  func() any { return &NoFields{} },
}

// Types returns every known entry type.
func Types() []string {
	out := make([]string, 0, len(schemas))
	for t := range schemas {
		out = append(out, t)
	}
	return out
}

// NewFields returns a pointer to the empty field struct of an entry type.
func NewFields(typ string) (any, error) {
	f, ok := schemas[typ]
	if !ok {
		return nil, fmt.Errorf("%w: unknown entry type %q", ErrMalformed, typ)
	}
	return f(), nil
}

type checker interface{ check() error }

var (
	objectPattern = regexp.MustCompile(`^(land|diploma|vaccination|batch|role|key)/[A-Za-z0-9._:/-]{1,200}$`)
	batchPattern  = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

func checkObjectID(id string) error {
	if !objectPattern.MatchString(id) {
		return fmt.Errorf("%w: object id %q must be family/name with letters, digits and ._:/-", ErrMalformed, id)
	}
	return nil
}

func checkKey(what string, k PublicKey) error {
	if _, err := ParsePublicKey(string(k)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func checkShares(what string, shares []Share) error {
	if len(shares) == 0 {
		return fmt.Errorf("%w: %s: at least one is needed", ErrMalformed, what)
	}
	for _, s := range shares {
		if err := checkKey(what, s.Key); err != nil {
			return err
		}
		if _, err := ParseShare(s.Share); err != nil {
			return err
		}
	}
	return nil
}

func (f *RoleFields) check() error {
	if !kindPattern.MatchString(f.Role) {
		return fmt.Errorf("%w: role %q must be lowercase letters and dashes", ErrMalformed, f.Role)
	}
	return checkKey("role holder", f.Holder)
}

func (f *KeyFields) check() error { return checkKey("new key", f.New) }

func (f *CourtOrderFields) check() error {
	if err := increasing("keep", f.Keep); err != nil {
		return err
	}
	if err := increasing("void", f.Void); err != nil {
		return err
	}
	for _, n := range f.Keep {
		if _, found := slices.BinarySearch(f.Void, n); found {
			return fmt.Errorf("%w: encumbrance %d is both kept and voided", ErrMalformed, n)
		}
	}
	return nil
}

// increasing refuses a list of encumbrance numbers that is not strictly
// increasing: each number once, in one canonical order.
func increasing(what string, ns []uint64) error {
	for i := 1; i < len(ns); i++ {
		if ns[i] <= ns[i-1] {
			return fmt.Errorf("%w: %s must list encumbrance numbers once each, in increasing order", ErrMalformed, what)
		}
	}
	return nil
}
func (f *OwnersFields) check() error   { return checkShares("owners", f.Owners) }
func (f *TransferFields) check() error { return checkShares("buyers", f.Buyers) }
func (f *PledgeFields) check() error   { return checkKey("pledgee", f.Pledgee) }
func (f *HolderFields) check() error   { return checkKey("holder", f.Holder) }
func (f *BatchFields) check() error {
	if !batchPattern.MatchString(f.Batch) {
		return fmt.Errorf("%w: batch id %q must be 1-64 letters, digits or dashes", ErrMalformed, f.Batch)
	}
	return nil
}

package rules

import (
	"encoding/hex"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/tabularium/tabularium/personality/entry"
)

// Object is the state of one registry object: a parcel, a diploma, a vaccination
// certificate, a vaccine batch, a role assignment ("role/<role>/<key>") or a
// party's key ("key/<key>"). Fields that do not apply to its family are empty.
//
// Its canonical encoding (EncodeObject) is core deterministic CBOR, so that equal
// states have equal bytes and can be committed to a verifiable map.
//
// Some objects are also written as bookkeeping by entries about other objects
// (a key's Standing, a batch on its first certificate): such a write leaves
// Latest, Hash and History alone, so an object that no entry of its own has
// changed has an empty Hash and History, and the first entry about it names
// no prev. A batch's certificates are not listed in it (RecalledAt is the
// index of the entry that recalled it); a certificate's status is derived
// from its batch with CertificateStatus.
type Object struct {
	ID      string   `cbor:"id" json:"id"`
	Status  string   `cbor:"status" json:"status"`
	Latest  uint64   `cbor:"latest" json:"latest_index"`
	Hash    Hash     `cbor:"hash" json:"latest_hash"`
	History []uint64 `cbor:"history" json:"entries"`

	Owners    []entry.Share      `cbor:"owners,omitempty" json:"owners,omitempty"`
	OwnerSets []OwnerSet         `cbor:"owner_sets,omitempty" json:"owner_sets,omitempty"`
	Pledges   []Pledge           `cbor:"pledges,omitempty" json:"pledges,omitempty"`
	Arrests   []Arrest           `cbor:"arrests,omitempty" json:"arrests,omitempty"`
	Counter   uint64             `cbor:"counter,omitempty" json:"counter,omitempty"`
	Docs      []entry.Commitment `cbor:"docs,omitempty" json:"docs,omitempty"`

	Issuer       entry.PublicKey   `cbor:"issuer,omitempty" json:"issuer,omitempty"`
	Holder       entry.PublicKey   `cbor:"holder,omitempty" json:"holder,omitempty"`
	Batch        string            `cbor:"batch,omitempty" json:"batch,omitempty"`
	RecalledAt   uint64            `cbor:"recalled_at,omitempty" json:"recalled_at,omitempty"`
	Role         string            `cbor:"role,omitempty" json:"role,omitempty"`
	Successor    entry.PublicKey   `cbor:"successor,omitempty" json:"successor,omitempty"`
	Predecessors []entry.PublicKey `cbor:"predecessors,omitempty" json:"predecessors,omitempty"`
	Recovery     *Recovery         `cbor:"recovery,omitempty" json:"recovery,omitempty"`
	Standing     *Standing         `cbor:"standing,omitempty" json:"standing,omitempty"`
}

// OwnerSet is an owner set an object had, from the entry at index Since.
type OwnerSet struct {
	Since  uint64        `cbor:"since" json:"since"`
	Owners []entry.Share `cbor:"owners" json:"owners"`
}

// Pledge is a standing pledge. Number identifies it for release; Rank is its
// order among the standing pledges (1 is paid first).
type Pledge struct {
	Number  uint64          `cbor:"number" json:"number"`
	Rank    uint64          `cbor:"rank" json:"rank"`
	Pledgee entry.PublicKey `cbor:"pledgee" json:"pledgee"`
	Index   uint64          `cbor:"index" json:"index"`
}

// Arrest is a standing arrest, with the commitment to the court order.
type Arrest struct {
	Number uint64 `cbor:"number" json:"number"`
	Index  uint64 `cbor:"index" json:"index"`
	Order  Hash   `cbor:"order" json:"order"`
}

// Recovery is a pending recovery of a key: New may complete it once the log time
// reaches EffectiveAt, unless the old key cancels it first.
type Recovery struct {
	New         entry.PublicKey `cbor:"new" json:"new"`
	Since       uint64          `cbor:"since" json:"since"`
	EffectiveAt int64           `cbor:"effective_at" json:"effective_at"`
}

// Hash is a SHA-256 hash, hex in JSON.
type Hash []byte

// MarshalText encodes the hash in lowercase hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText decodes hex.
func (h *Hash) UnmarshalText(b []byte) error {
	d, err := hex.DecodeString(string(b))
	*h = d
	return err
}

// Meta is the log-wide state: how many entries have been applied or rejected
// (the next position) and the log time, in Unix seconds.
type Meta struct {
	Size uint64 `cbor:"size" json:"size"`
	Time int64  `cbor:"time" json:"time"`
}

var (
	objEnc cbor.EncMode
	objDec cbor.DecMode
)

func init() {
	var err error
	if objEnc, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	dec := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxArrayElements:  1 << 24,
	}
	if objDec, err = dec.DecMode(); err != nil {
		panic(err)
	}
}

// EncodeObject returns the canonical encoding of o.
func EncodeObject(o *Object) ([]byte, error) {
	b, err := objEnc.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode object %s: %w", o.ID, err)
	}
	return b, nil
}

// DecodeObject decodes an encoding made by EncodeObject.
func DecodeObject(b []byte) (*Object, error) {
	var o Object
	if err := objDec.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	return &o, nil
}

func clone(o *Object) (*Object, error) {
	b, err := EncodeObject(o)
	if err != nil {
		return nil, err
	}
	return DecodeObject(b)
}

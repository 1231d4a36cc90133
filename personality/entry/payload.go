package entry

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"regexp"

	"github.com/fxamacker/cbor/v2"
)

// Payload is what every party signs. It is encoded as a CBOR map with text keys in
// core deterministic order (RFC 8949 §4.2.1).
type Payload struct {
	// Log is the origin of the log the entry is meant for; another log refuses it,
	// so an entry cannot be replayed across registries.
	Log string `cbor:"log"`
	// Type is one of the Type* constants; it selects the Fields schema.
	Type string `cbor:"type"`
	// Object names the registry object the entry changes (see ObjectID rules in
	// package rules).
	Object string `cbor:"object"`
	// Prev is the Hash of the object's latest entry, or empty for a new object:
	// each object is a hash chain inside the log.
	Prev []byte `cbor:"prev"`
	// Time is the signers' claim of when they signed, in Unix seconds. The log's
	// time is the largest Time accepted so far.
	Time int64 `cbor:"time"`
	// Fields holds the type-specific public fields, a pointer to the struct that
	// NewFields returns for Type.
	Fields any `cbor:"fields"`
	// Docs commits to off-log documents (deed, court order, diploma record).
	Docs []Commitment `cbor:"docs,omitempty"`
}

// wirePayload is Payload before its Fields are decoded by type.
type wirePayload struct {
	Log    string          `cbor:"log"`
	Type   string          `cbor:"type"`
	Object string          `cbor:"object"`
	Prev   []byte          `cbor:"prev"`
	Time   int64           `cbor:"time"`
	Fields cbor.RawMessage `cbor:"fields"`
	Docs   []Commitment    `cbor:"docs,omitempty"`
}

// Commitment binds an off-log document without revealing it:
// Hash = SHA-256(salt || document), with a fresh 32-byte salt kept off-log.
type Commitment struct {
	Kind string `cbor:"kind"` // what the document is: "deed", "order", "record", "contents"
	Hash []byte `cbor:"hash"`
}

// Commit returns a commitment of the given kind to doc, and the salt that opens it.
func Commit(kind string, doc []byte) (Commitment, []byte, error) {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return Commitment{}, nil, err
	}
	return CommitWithSalt(kind, salt, doc), salt, nil
}

// CommitWithSalt returns the commitment SHA-256(salt || doc).
func CommitWithSalt(kind string, salt, doc []byte) Commitment {
	h := sha256.New()
	h.Write(salt)
	h.Write(doc)
	return Commitment{Kind: kind, Hash: h.Sum(nil)}
}

// Share is one owner's part of an object: a reduced fraction such as "1/2", or "1".
type Share struct {
	Key   PublicKey `cbor:"key" json:"key"`
	Share string    `cbor:"share" json:"share"`
}

// ParseShare returns the fraction in s, which must be canonical ("1/2", not
// "2/4" or "0.5") and in (0, 1].
func ParseShare(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || len(s) > 40 || r.RatString() != s || r.Sign() <= 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, fmt.Errorf("%w: share %q is not a reduced fraction in (0, 1]", ErrMalformed, s)
	}
	return r, nil
}

var (
	kindPattern = regexp.MustCompile(`^[a-z][a-z-]{0,31}$`)
	encMode     cbor.EncMode
	decMode     cbor.DecMode
)

func init() {
	enc := cbor.CoreDetEncOptions()
	enc.NilContainers = cbor.NilContainerAsEmpty
	var err error
	if encMode, err = enc.EncMode(); err != nil {
		panic(err)
	}
	dec := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   8,
		MaxArrayElements:  1024,
		MaxMapPairs:       64,
		UTF8:              cbor.UTF8RejectInvalid,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}
	if decMode, err = dec.DecMode(); err != nil {
		panic(err)
	}
}

// EncodePayload returns the deterministic encoding of p.
func EncodePayload(p *Payload) ([]byte, error) {
	if p.Fields == nil {
		f, err := NewFields(p.Type)
		if err != nil {
			return nil, err
		}
		p.Fields = f
	}
	b, err := encMode.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	if _, err := DecodePayload(b); err != nil {
		return nil, err
	}
	return b, nil
}

// DecodePayload parses a payload strictly: known fields only, the right shape for
// its type, and bytes equal to their own canonical re-encoding.
func DecodePayload(b []byte) (*Payload, error) {
	var w wirePayload
	if err := decMode.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	fields, err := NewFields(w.Type)
	if err != nil {
		return nil, err
	}
	if err := decMode.Unmarshal(w.Fields, fields); err != nil {
		return nil, fmt.Errorf("%w: fields of %s: %v", ErrMalformed, w.Type, err)
	}
	p := &Payload{Log: w.Log, Type: w.Type, Object: w.Object, Prev: w.Prev, Time: w.Time, Fields: fields, Docs: w.Docs}
	if err := p.check(); err != nil {
		return nil, err
	}
	// SPEC(RFC 8949 §4.2): a deterministically encoded item has exactly one
	// encoding; anything else (non-preferred lengths, unsorted keys) is refused so
	// that an entry's hash identifies its content.
	re, err := encMode.Marshal(p)
	if err != nil || string(re) != string(b) {
		return nil, fmt.Errorf("%w: payload is not in core deterministic CBOR encoding", ErrMalformed)
	}
	return p, nil
}

// check validates the shape common to every entry type.
func (p *Payload) check() error {
	if p.Log == "" || len(p.Log) > 256 {
		return fmt.Errorf("%w: log name is empty or too long", ErrMalformed)
	}
	if len(p.Prev) != 0 && len(p.Prev) != sha256.Size {
		return fmt.Errorf("%w: prev must be empty or a 32-byte SHA-256 hash", ErrMalformed)
	}
	if p.Time <= 0 {
		return fmt.Errorf("%w: time must be positive Unix seconds", ErrMalformed)
	}
	if err := checkObjectID(p.Object); err != nil {
		return err
	}
	for _, d := range p.Docs {
		if !kindPattern.MatchString(d.Kind) || len(d.Hash) != sha256.Size {
			return fmt.Errorf("%w: document commitment %q must have a lowercase kind and a 32-byte hash", ErrMalformed, d.Kind)
		}
	}
	if c, ok := p.Fields.(checker); ok {
		return c.check()
	}
	return nil
}

// Doc returns the first commitment of the given kind.
func (p *Payload) Doc(kind string) (Commitment, bool) {
	for _, d := range p.Docs {
		if d.Kind == kind {
			return d, true
		}
	}
	return Commitment{}, false
}

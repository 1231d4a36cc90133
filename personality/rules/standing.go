package rules

import "github.com/tabularium/tabularium/personality/entry"

// Standing is what makes a key a party to a registry. A key.rotate or
// key.recover must concern a key with standing: otherwise anyone could grow a
// public, permanent log with pairs of fresh keys that rotate one to the other.
// (Every other entry type needs a role of its signers, or the signature of a
// party the object names — an owner, a pledgee, an issuer, the key being
// recovered — so a key without standing can only co-sign an entry that
// parties with standing make.)
//
// A key has standing while any count is above zero, or while it is one of
// the log's root keys. The counts live in the key object ("key/<key>") of
// the party's current key; a rotation or a completed recovery moves them to
// the new key. They are kept up to date by the entries that change them, as
// bookkeeping that is not part of the key object's own chain of entries (its
// latest entry and hash do not change, so a rotation never goes stale because
// its key bought a parcel):
//
//   - Owner: land objects whose current owner set lists the key; set by
//     land.register, land.transfer and land.court-order.
//   - Pledgee: standing pledges to the key; land.pledge adds one, land.release
//     and a court order that voids the pledge take it away.
//   - Roles: roles the key holds; role.grant and role.revoke.
//   - Issuer: diplomas and vaccination certificates the key issued that no
//     revocation entry of their own has revoked (a batch recall does not
//     count: it costs one entry whatever the batch's size, and visits no
//     certificate).
//   - Holder: diplomas the key holds that are not revoked.
//
// Keeping the counts in the key objects, rather than asking the state "does
// any object name this key?", keeps the rules a function of State.Object
// alone: every State (the SQL index, the registry's overlay of pending
// entries, rules.Memory, the auditor's replay) answers the question with no
// new query, and a state map proves a key's standing with the key's own
// record.
type Standing struct {
	Owner   uint64 `cbor:"owner,omitempty" json:"owner,omitempty"`
	Pledgee uint64 `cbor:"pledgee,omitempty" json:"pledgee,omitempty"`
	Roles   uint64 `cbor:"roles,omitempty" json:"roles,omitempty"`
	Issuer  uint64 `cbor:"issuer,omitempty" json:"issuer,omitempty"`
	Holder  uint64 `cbor:"holder,omitempty" json:"holder,omitempty"`
}

// Any reports whether some count is above zero.
func (s *Standing) Any() bool {
	return s != nil && s.Owner+s.Pledgee+s.Roles+s.Issuer+s.Holder > 0
}

// HasStanding reports whether the key whose key object is ko (nil if it has
// none) has standing in a log with configuration cfg.
func HasStanding(cfg *Config, k entry.PublicKey, ko *Object) bool {
	if ko != nil && ko.Successor != "" {
		return false
	}
	return cfg.isRoot(k) || (ko != nil && ko.Standing.Any())
}

// Which standing count an adjustment changes.
const (
	asOwner = iota
	asPledgee
	asRole
	asIssuer
	asHolder
)

func (s *Standing) count(which int) *uint64 {
	switch which {
	case asOwner:
		return &s.Owner
	case asPledgee:
		return &s.Pledgee
	case asRole:
		return &s.Roles
	case asIssuer:
		return &s.Issuer
	}
	return &s.Holder
}

// partyKey returns the key object of the party k names now: k's, or that of
// the key that replaced it, and so on. It creates the object if k has none.
func (c *applyCtx) partyKey(k entry.PublicKey) (*Object, *Error) {
	for {
		o, err := c.get(keyObject(k))
		if err != nil {
			return nil, err
		}
		if o == nil {
			return c.create(keyObject(k), StatusActive), nil
		}
		if o.Successor == "" {
			return o, nil
		}
		k = o.Successor
	}
}

// adjust adds delta (+1 or -1) to one standing count of the party k.
func (c *applyCtx) adjust(k entry.PublicKey, which, delta int) *Error {
	o, err := c.partyKey(k)
	if err != nil {
		return err
	}
	s := o.Standing
	if s == nil {
		s = &Standing{}
	}
	n := s.count(which)
	switch {
	case delta > 0:
		*n++
	case *n > 0:
		*n--
	}
	o.Standing = nil
	if s.Any() {
		o.Standing = s
	}
	c.note(o)
	return nil
}

func (c *applyCtx) adjustAll(keys []entry.PublicKey, which, delta int) *Error {
	for _, k := range keys {
		if err := c.adjust(k, which, delta); err != nil {
			return err
		}
	}
	return nil
}

// requireStanding refuses an entry about the key k (a rotation or recovery)
// unless k has standing.
func (c *applyCtx) requireStanding(k entry.PublicKey, ko *Object) *Error {
	if HasStanding(c.cfg, k, ko) {
		return nil
	}
	return forbidden(CodeNoStanding, "key %s has no standing in this log: it owns or co-owns no object, holds no role or pledge, and issued or holds no live credential here; only a party to this registry can rotate or recover its key", k)
}

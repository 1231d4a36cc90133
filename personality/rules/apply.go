package rules

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tabularium/tabularium/personality/entry"
)

// ApplyRaw parses raw and applies it; see Apply. Parse failures are refusals
// like any other, so a replayer records them and moves on.
func ApplyRaw(cfg *Config, st State, meta Meta, raw []byte, index uint64) (*Changes, *Error) {
	e, err := entry.Parse(raw)
	if err != nil {
		return nil, FromParse(err)
	}
	return Apply(cfg, st, meta, e, index)
}

// Apply decides whether e, at position index of the log, is valid against the
// state st (the state after every entry before index, summarised by meta), and
// returns the changes it makes. It is deterministic: the same inputs always give
// the same result. A refusal is an *Error; so is a failure to read st (with code
// "state-unavailable", which a replayer must treat as fatal, not as a refusal).
//
// It judges in a fixed order, so that a party who may not make an entry learns
// nothing about the object's state from the refusal: first the entry's form
// (log, type, object id, documents), then its authorisation (Authorize: the
// roles the entry needs and what its signers may do with this object), and
// only then the object's state (existence,
// prev) and the registry's rules.
func Apply(cfg *Config, st State, meta Meta, e *entry.Entry, index uint64) (*Changes, *Error) {
	if index < meta.Size {
		return nil, malformed(CodePositionOutOfOrder, "position %d is before the next position %d", index, meta.Size)
	}
	h, rerr := wellFormed(cfg, e.Payload)
	if rerr != nil {
		return nil, rerr
	}
	c := newCtx(cfg, st, e, index)
	c.time = max(meta.Time, e.Payload.Time)
	obj, rerr := c.authorize(h)
	if rerr != nil {
		return nil, rerr
	}
	p := e.Payload
	if obj == nil {
		if len(p.Prev) != 0 {
			return nil, conflict(CodeUnknownObject, "object %s does not exist but the entry names a previous entry; leave prev empty for a new object", p.Object)
		}
		if !h.creates {
			return nil, conflict(CodeUnknownObject, "object %s does not exist; check the object id", p.Object)
		}
		obj = &Object{ID: p.Object}
		c.seen[obj.ID] = obj
	} else if h.createOnly {
		return nil, conflict(CodeObjectExists, "object %s already exists (entry %d); a %s entry must name a new object", p.Object, obj.Latest, p.Type)
	} else if !bytes.Equal(p.Prev, obj.Hash) {
		return nil, conflict(CodeStalePrev, "object %s has changed: its latest entry is %d with hash %x; rebuild the entry on that state and sign it again", p.Object, obj.Latest, []byte(obj.Hash))
	}
	if err := h.apply(c, obj); err != nil {
		return nil, err
	}
	c.put(obj)
	return c.changes(), nil
}

// Authorize makes the checks of Apply that come before any check of the
// object's state: the entry's form, then whether its signers may make it at
// all — the roles it needs that do not depend on the object, what the signers
// may do with this object (the old key of a rotation and its standing, the
// issuer of a credential, the pledgee of a pledge). It reads only the signers' key and role objects and the entry's
// object, and does no cryptography: a server calls it on an entry from
// entry.Decode, before verifying any signature, to refuse cheaply an entry that
// no signature could make acceptable. Its refusals are exactly the ones Apply
// would give first.
func Authorize(cfg *Config, st State, e *entry.Entry) *Error {
	h, rerr := wellFormed(cfg, e.Payload)
	if rerr != nil {
		return rerr
	}
	_, rerr = newCtx(cfg, st, e, 0).authorize(h)
	return rerr
}

// wellFormed checks what the payload alone decides and returns the type's rule.
func wellFormed(cfg *Config, p *entry.Payload) (handler, *Error) {
	if p.Log != cfg.Log {
		return handler{}, malformed(CodeWrongLog, "the entry is for log %q, this is %q; build it for this log", p.Log, cfg.Log)
	}
	h, ok := handlers[p.Type]
	if !ok || (h.kind != "" && h.kind != cfg.Kind) {
		return handler{}, malformed(CodeTypeNotAllowed, "entries of type %s are not accepted by this %s registry", p.Type, cfg.Kind)
	}
	if !h.object.MatchString(p.Object) {
		return handler{}, malformed(CodeWrongObject, "a %s entry must name an object like %s, not %q", p.Type, h.example, p.Object)
	}
	for _, d := range h.docs {
		if _, ok := p.Doc(d); !ok {
			return handler{}, malformed(CodeMissingDocument, "a %s entry must commit to a %q document", p.Type, d)
		}
	}
	return h, nil
}

func newCtx(cfg *Config, st State, e *entry.Entry, index uint64) *applyCtx {
	return &applyCtx{cfg: cfg, st: st, e: e, p: e.Payload, index: index,
		seen: map[string]*Object{}, touched: map[string]*Object{}, needs: RequiredRoles(e.Payload)}
}

// authorize is the authorisation phase of Apply (see Authorize). It returns
// the entry's object, nil if it does not exist.
func (c *applyCtx) authorize(h handler) (*Object, *Error) {
	if err := c.identify(); err != nil {
		return nil, err
	}
	for i, n := range c.needs {
		if n.Unless == "" && n.Key == "" {
			if err := c.requireNeed(i); err != nil {
				return nil, err
			}
		}
	}
	obj, err := c.get(c.p.Object)
	if err != nil {
		return nil, err
	}
	if h.authorize != nil {
		if err := h.authorize(c, obj); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// handler is the rule of one entry type.
type handler struct {
	kind       string         // registry kind the type belongs to; "" for every kind
	object     *regexp.Regexp // the object ids the type may name
	example    string
	creates    bool                          // whether the type may name a new object
	createOnly bool                          // whether it must name a new object
	docs       []string                      // document kinds the entry must commit to
	needs      func(p *entry.Payload) []Need // roles the signers must hold; see RequiredRoles
	// authorize, if set, checks what the signers may do with the object (nil
	// if it does not exist) beyond the needs that do not depend on it. It runs
	// before any check of the object's state and must not refuse for a reason
	// that tells an unauthorised party something about that state.
	authorize func(c *applyCtx, obj *Object) *Error
	apply     func(c *applyCtx, obj *Object) *Error
}

var handlers = map[string]handler{}

// applyCtx carries one application: the entry, the log time, the signers'
// identities and the objects touched so far.
type applyCtx struct {
	cfg   *Config
	st    State
	e     *entry.Entry
	p     *entry.Payload
	index uint64
	time  int64
	// seen holds every object read so far, so that all reads of one object
	// share one private copy; touched, the ones the entry changes.
	seen    map[string]*Object
	touched map[string]*Object
	// acts maps every identity the signers act for to the signer: a signer acts
	// for its own key and for every key it succeeded by rotation or recovery.
	acts map[entry.PublicKey]entry.PublicKey
	// needs are the roles the entry's signers must hold (RequiredRoles); the
	// handlers check roles only through them.
	needs []Need
}

func stateUnavailable(err error) *Error {
	return conflict(CodeStateUnavailable, "the registry state could not be read (%v); retry later", err)
}

// get returns the private copy of an object, or nil if it does not exist.
func (c *applyCtx) get(id string) (*Object, *Error) {
	if o, ok := c.seen[id]; ok {
		return o, nil
	}
	o, err := c.st.Object(id)
	if err != nil {
		return nil, stateUnavailable(err)
	}
	if o != nil {
		if o, err = clone(o); err != nil {
			return nil, stateUnavailable(err)
		}
	}
	c.seen[id] = o
	return o, nil
}

// create returns a new object with this id, as the private copy get returns
// from now on.
func (c *applyCtx) create(id, status string) *Object {
	o := &Object{ID: id, Status: status}
	c.seen[id] = o
	return o
}

// note records that the entry changes o as bookkeeping — a party's standing,
// the existence of a batch — without making the entry one of o's own: o's
// latest entry, hash and history stay as they were, so that an entry about o
// does not go stale because another object changed.
func (c *applyCtx) note(o *Object) { c.touched[o.ID] = o }

// put records that the entry changes o: o's latest entry becomes this one.
func (c *applyCtx) put(o *Object) {
	if _, ok := c.touched[o.ID]; !ok || len(o.History) == 0 || o.History[len(o.History)-1] != c.index {
		o.History = append(o.History, c.index)
	}
	o.Latest = c.index
	o.Hash = append(Hash(nil), c.e.Hash[:]...)
	c.touched[o.ID] = o
}

func (c *applyCtx) changes() *Changes {
	ch := &Changes{Meta: Meta{Size: c.index + 1, Time: c.time}}
	for _, o := range c.touched {
		ch.Objects = append(ch.Objects, o)
	}
	sort.Slice(ch.Objects, func(i, j int) bool { return ch.Objects[i].ID < ch.Objects[j].ID })
	return ch
}

// identify computes whom the signers act for. A key that was rotated away or
// recovered from acts for no one.
func (c *applyCtx) identify() *Error {
	c.acts = map[entry.PublicKey]entry.PublicKey{}
	for _, s := range c.e.Signers {
		k, err := c.get(keyObject(s))
		if err != nil {
			return err
		}
		if k != nil && k.Successor != "" {
			continue
		}
		c.acts[s] = s
		if k != nil {
			for _, p := range k.Predecessors {
				c.acts[p] = s
			}
		}
	}
	return nil
}

// signedBy reports whether some signer acts for k.
func (c *applyCtx) signedBy(k entry.PublicKey) bool {
	_, ok := c.acts[k]
	return ok
}

// requireSigned refuses unless every key in keys is signed for.
func (c *applyCtx) requireSigned(what string, keys ...entry.PublicKey) *Error {
	for _, k := range keys {
		if !c.signedBy(k) {
			return forbidden(CodeMissingSignature, "the entry needs the signature of %s %s (or of the key that replaced it); have that party sign it", what, k)
		}
	}
	return nil
}

// holders returns the identities among the signers that hold role now.
func (c *applyCtx) holders(role string) ([]entry.PublicKey, *Error) {
	var out []entry.PublicKey
	ids := make([]entry.PublicKey, 0, len(c.acts))
	for id := range c.acts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		ok, err := c.holds(id, role)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// holds reports whether key k holds role at this position of the log.
func (c *applyCtx) holds(k entry.PublicKey, role string) (bool, *Error) {
	if role == Root {
		return c.cfg.isRoot(k) && c.acts[k] == k, nil
	}
	o, err := c.get(roleObject(role, k))
	if err != nil {
		return false, err
	}
	return o != nil && o.Status == StatusActive, nil
}

// holdsAsParty reports whether the party whose current key is k holds role:
// through k itself, or through a key that k replaced (a bank that rotated its
// key keeps the role granted to the old one).
func (c *applyCtx) holdsAsParty(k entry.PublicKey, role string) (bool, *Error) {
	ids := []entry.PublicKey{k}
	ko, err := c.get(keyObject(k))
	if err != nil {
		return false, err
	}
	if ko != nil {
		ids = append(ids, ko.Predecessors...)
	}
	for _, id := range ids {
		if role == Root {
			if c.cfg.isRoot(id) && id == k {
				return true, nil
			}
			continue
		}
		if ok, err := c.holds(id, role); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// requireRole refuses unless some signer holds one of roles.
func (c *applyCtx) requireRole(roles ...string) *Error {
	for _, r := range roles {
		h, err := c.holders(r)
		if err != nil {
			return err
		}
		if len(h) > 0 {
			return nil
		}
	}
	return forbidden(CodeRoleNotHeld, "a %s entry must be signed by a key holding the role %s at this point of the log; none of its signers does", c.p.Type, strings.Join(roles, " or "))
}

// current refuses a party key that was replaced: entries must name current keys.
func (c *applyCtx) current(what string, k entry.PublicKey) *Error {
	o, err := c.get(keyObject(k))
	if err != nil {
		return err
	}
	if o != nil && o.Successor != "" {
		return conflict(CodeKeySuperseded, "%s %s was replaced by %s; name the new key", what, k, o.Successor)
	}
	return nil
}

func keyObject(k entry.PublicKey) string            { return "key/" + string(k) }
func roleObject(r string, k entry.PublicKey) string { return "role/" + r + "/" + string(k) }

func fieldsOf[T any](c *applyCtx) *T {
	f, ok := c.p.Fields.(*T)
	if !ok {
		panic(fmt.Sprintf("rules: fields of %s are %T", c.p.Type, c.p.Fields))
	}
	return f
}

// Object statuses.
const (
	StatusActive    = "active"
	StatusRevoked   = "revoked"
	StatusRotated   = "rotated"
	StatusRecovered = "recovered"
	StatusPending   = "recovery-pending"
	StatusValid     = "valid"
	StatusRecalled  = "recalled"
	StatusRecorded  = "registered"
)

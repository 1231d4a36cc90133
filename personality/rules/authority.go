package rules

import (
	"regexp"
	"strings"

	"github.com/tabularium/tabularium/personality/entry"
)

const keyRE = `(ed25519|p256):[A-Za-z0-9_-]+`

var (
	roleObjectRE = regexp.MustCompile(`^role/[a-z-]+/` + keyRE + `$`)
	keyObjectRE  = regexp.MustCompile(`^key/` + keyRE + `$`)
)

func init() {
	role := handler{object: roleObjectRE, example: "role/<role>/<holder key>", creates: true}
	role.needs = roleEntryNeeds
	grant, revoke := role, role
	grant.apply, revoke.apply = applyGrant, applyRevoke
	handlers[entry.TypeRoleGrant] = grant
	handlers[entry.TypeRoleRevoke] = revoke

	key := handler{object: keyObjectRE, example: "key/<old key>", creates: true}
	rotate, recover, cancel, complete := key, key, key, key
	rotate.authorize, rotate.apply = authorizeRotate, applyRotate
	recover.authorize, recover.apply = authorizeRecover, applyRecover
	recover.needs = needsOf(Need{Roles: []string{RoleRegistrar}}, Need{Roles: []string{RoleCourt}})
	cancel.authorize, cancel.apply = authorizeRecoverCancel, applyRecoverCancel
	complete.authorize, complete.apply = authorizeRecoverComplete, applyRecoverComplete
	cancel.creates, complete.creates = false, false
	handlers[entry.TypeKeyRotate] = rotate
	handlers[entry.TypeKeyRecover] = recover
	handlers[entry.TypeKeyRecoverCancel] = cancel
	handlers[entry.TypeKeyRecoverComplete] = complete
}

// checkRoleObject checks that the fields agree with the object id and that the
// signers may grant the role.
func checkRole(c *applyCtx, obj *Object) (*entry.RoleFields, *Error) {
	f := fieldsOf[entry.RoleFields](c)
	if obj.ID != roleObject(f.Role, f.Holder) {
		return nil, malformed(CodeWrongObject, "a %s entry for role %s and holder %s must name the object %s", c.p.Type, f.Role, f.Holder, roleObject(f.Role, f.Holder))
	}
	if _, ok := Grantor[f.Role]; !ok {
		return nil, malformed(CodeUnknownRole, "role %q is not a registry role", f.Role)
	}
	if err := c.requireNeed(0); err != nil {
		return nil, err
	}
	return f, nil
}

func applyGrant(c *applyCtx, obj *Object) *Error {
	f, err := checkRole(c, obj)
	if err != nil {
		return err
	}
	if obj.Status == StatusActive {
		return conflict(CodeRoleAlreadyHeld, "%s already holds the role %s", f.Holder, f.Role)
	}
	if err := c.current("holder", f.Holder); err != nil {
		return err
	}
	obj.Status, obj.Role, obj.Holder = StatusActive, f.Role, f.Holder
	return c.adjust(f.Holder, asRole, +1)
}

func applyRevoke(c *applyCtx, obj *Object) *Error {
	f, err := checkRole(c, obj)
	if err != nil {
		return err
	}
	if obj.Status != StatusActive {
		return conflict(CodeRoleNotActive, "%s does not hold the role %s; nothing to revoke", f.Holder, f.Role)
	}
	obj.Status = StatusRevoked
	return c.adjust(f.Holder, asRole, -1)
}

// oldKey returns the key an entry on a key object is about.
func oldKey(obj *Object) entry.PublicKey { return keyOf(obj.ID) }

func keyOf(id string) entry.PublicKey { return entry.PublicKey(strings.TrimPrefix(id, "key/")) }

// replaceKey moves the identity of obj's key to f.New: the old key acts for no
// one any more, and the new key acts for it and for all its predecessors.
func replaceKey(c *applyCtx, obj *Object, nk entry.PublicKey, status string) *Error {
	next, err := c.get(keyObject(nk))
	if err != nil {
		return err
	}
	if next != nil || nk == oldKey(obj) {
		return conflict(CodeKeyInUse, "key %s has been used before; generate a fresh key", nk)
	}
	next = c.create(keyObject(nk), StatusActive)
	next.Predecessors = append(append(next.Predecessors, obj.Predecessors...), oldKey(obj))
	// The party's standing moves with its identity.
	next.Standing, obj.Standing = obj.Standing, nil
	obj.Status, obj.Successor, obj.Recovery = status, nk, nil
	c.put(next)
	return nil
}

func notReplaced(obj *Object) *Error {
	if obj.Successor != "" {
		return conflict(CodeKeySuperseded, "key %s was already replaced by %s", oldKey(obj), obj.Successor)
	}
	return nil
}

// authorizeRotate: the old key signs itself (the owner's consent), the new
// key signs (possession), and the old key has standing.
func authorizeRotate(c *applyCtx, obj *Object) *Error {
	old := keyOf(c.p.Object)
	if obj != nil {
		if err := notReplaced(obj); err != nil {
			return err
		}
	}
	if c.acts[old] != old {
		return forbidden(CodeMissingSignature, "a rotation must be signed by the old key %s itself", old)
	}
	if err := c.requireSigned("the new key", fieldsOf[entry.KeyFields](c).New); err != nil {
		return err
	}
	return c.requireStanding(old, obj)
}

func applyRotate(c *applyCtx, obj *Object) *Error {
	return replaceKey(c, obj, fieldsOf[entry.KeyFields](c).New, StatusRotated)
}

// authorizeRecover: a registrar and a court, two different parties, and a
// lost key with standing.
func authorizeRecover(c *applyCtx, obj *Object) *Error {
	if obj != nil {
		if err := notReplaced(obj); err != nil {
			return err
		}
	}
	regs, err := c.holders(RoleRegistrar)
	if err != nil {
		return err
	}
	courts, err := c.holders(RoleCourt)
	if err != nil {
		return err
	}
	for _, r := range regs {
		for _, q := range courts {
			if c.acts[r] != c.acts[q] {
				return c.requireStanding(keyOf(c.p.Object), obj)
			}
		}
	}
	return forbidden(CodeSameParty, "a key recovery needs a registrar and a court that are two different parties; %s signs as both: have another registrar or court sign", c.acts[regs[0]])
}

func applyRecover(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.KeyFields](c)
	if obj.Recovery != nil {
		return conflict(CodeRecoveryPending, "a recovery of %s to %s is already pending", oldKey(obj), obj.Recovery.New)
	}
	if k, err := c.get(keyObject(f.New)); err != nil {
		return err
	} else if k != nil || f.New == oldKey(obj) {
		return conflict(CodeKeyInUse, "key %s has been used before; generate a fresh key", f.New)
	}
	obj.Status = StatusPending
	obj.Recovery = &Recovery{New: f.New, Since: c.index, EffectiveAt: c.time + c.cfg.RecoveryWait}
	return nil
}

// authorizeRecoverCancel: only the lost key itself cancels its recovery.
func authorizeRecoverCancel(c *applyCtx, _ *Object) *Error {
	if old := keyOf(c.p.Object); c.acts[old] != old {
		return forbidden(CodeMissingSignature, "only the key %s itself can cancel its recovery", old)
	}
	return nil
}

// authorizeRecoverComplete: only the recovering key completes the recovery.
func authorizeRecoverComplete(c *applyCtx, obj *Object) *Error {
	if obj == nil || obj.Recovery == nil {
		return conflict(CodeNoRecovery, "no recovery of %s is pending", keyOf(c.p.Object))
	}
	return c.requireSigned("the recovering key", obj.Recovery.New)
}

func applyRecoverCancel(c *applyCtx, obj *Object) *Error {
	if obj.Recovery == nil {
		return conflict(CodeNoRecovery, "no recovery of %s is pending", oldKey(obj))
	}
	obj.Status, obj.Recovery = StatusActive, nil
	return nil
}

func applyRecoverComplete(c *applyCtx, obj *Object) *Error {
	r := obj.Recovery
	if r == nil {
		return conflict(CodeNoRecovery, "no recovery of %s is pending", oldKey(obj))
	}
	if c.time < r.EffectiveAt {
		return conflict(CodeRecoveryWaiting, "the recovery of %s takes effect at log time %d, %d seconds from now; submit again then", oldKey(obj), r.EffectiveAt, r.EffectiveAt-c.time)
	}
	return replaceKey(c, obj, r.New, StatusRecovered)
}

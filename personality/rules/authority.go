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
	rotate.apply, recover.apply = applyRotate, applyRecover
	recover.needs = needsOf(Need{Roles: []string{RoleRegistrar}}, Need{Roles: []string{RoleCourt}})
	cancel.apply, complete.apply = applyRecoverCancel, applyRecoverComplete
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
	return nil
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
	return nil
}

// oldKey returns the key an entry on a key object is about.
func oldKey(obj *Object) entry.PublicKey {
	return entry.PublicKey(strings.TrimPrefix(obj.ID, "key/"))
}

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
	next = &Object{ID: keyObject(nk), Status: StatusActive}
	next.Predecessors = append(append(next.Predecessors, obj.Predecessors...), oldKey(obj))
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

func applyRotate(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.KeyFields](c)
	if err := notReplaced(obj); err != nil {
		return err
	}
	// The old key proves the owner's consent, the new one possession.
	if c.acts[oldKey(obj)] != oldKey(obj) {
		return forbidden(CodeMissingSignature, "a rotation must be signed by the old key %s itself", oldKey(obj))
	}
	if err := c.requireSigned("the new key", f.New); err != nil {
		return err
	}
	return replaceKey(c, obj, f.New, StatusRotated)
}

func applyRecover(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.KeyFields](c)
	if err := notReplaced(obj); err != nil {
		return err
	}
	if obj.Recovery != nil {
		return conflict(CodeRecoveryPending, "a recovery of %s to %s is already pending", oldKey(obj), obj.Recovery.New)
	}
	if err := c.requireNeed(0); err != nil {
		return err
	}
	if err := c.requireNeed(1); err != nil {
		return err
	}
	if k, err := c.get(keyObject(f.New)); err != nil {
		return err
	} else if k != nil {
		return conflict(CodeKeyInUse, "key %s has been used before; generate a fresh key", f.New)
	}
	obj.Status = StatusPending
	obj.Recovery = &Recovery{New: f.New, Since: c.index, EffectiveAt: c.time + c.cfg.RecoveryWait}
	return nil
}

func applyRecoverCancel(c *applyCtx, obj *Object) *Error {
	if obj.Recovery == nil {
		return conflict(CodeNoRecovery, "no recovery of %s is pending", oldKey(obj))
	}
	if c.acts[oldKey(obj)] != oldKey(obj) {
		return forbidden(CodeMissingSignature, "only the key %s itself can cancel its recovery", oldKey(obj))
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
	if err := c.requireSigned("the recovering key", r.New); err != nil {
		return err
	}
	return replaceKey(c, obj, r.New, StatusRecovered)
}

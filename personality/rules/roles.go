package rules

import (
	"strings"

	"github.com/tabularium/tabularium/personality/entry"
)

// Need is a role that the signers of an entry must hold, at the entry's
// position in the log, for the rules to accept it. The rules check an entry's
// roles against exactly the needs RequiredRoles returns, so a verifier that
// proves them (from role grants, offline) proves what the rules checked.
type Need struct {
	// Roles: the key must hold one of them. Root means being one of the
	// log's root keys.
	Roles []string
	// Key, if set, is the key that must hold the role (the pledgee of a
	// pledge) — itself, or through a key it replaced by rotation or recovery,
	// as a bank that rotated its key keeps its role; otherwise any signer may.
	Key entry.PublicKey
	// Signers is how many different signers must hold the role; 0 means 1.
	Signers int
	// Unless, if set, describes a case that depends on the state, in which
	// the rules accept the entry without the role (for example, when it is
	// signed by the diploma's issuer).
	Unless string
}

// Count is how many different keys must hold the role.
func (n Need) Count() int { return max(n.Signers, 1) }

// RequiredRoles returns the roles the signers of an entry with payload p must
// hold, as the rules check them; none for an entry type that needs no role or
// that the rules do not know. It is pure: it depends on the payload alone.
func RequiredRoles(p *entry.Payload) []Need {
	h, ok := handlers[p.Type]
	if !ok || h.needs == nil {
		return nil
	}
	return h.needs(p)
}

// needsOf returns a needs function that ignores the payload.
func needsOf(ns ...Need) func(*entry.Payload) []Need {
	return func(*entry.Payload) []Need { return ns }
}

func role(roles ...string) Need { return Need{Roles: roles} }

// roleEntryNeeds: a role is granted and revoked by a holder of its Grantor.
func roleEntryNeeds(p *entry.Payload) []Need {
	f, ok := p.Fields.(*entry.RoleFields)
	if !ok {
		return nil
	}
	g, ok := Grantor[f.Role]
	if !ok {
		return nil
	}
	return []Need{role(g)}
}

func pledgeNeeds(p *entry.Payload) []Need {
	f, ok := p.Fields.(*entry.PledgeFields)
	if !ok {
		return nil
	}
	return []Need{{Roles: []string{RoleBank}, Key: f.Pledgee}, role(RoleRegistrar)}
}

// requireNeed refuses unless the signers hold the entry's i-th need: some
// signer one of its roles, or Count different signers (four eyes).
func (c *applyCtx) requireNeed(i int) *Error {
	n := c.needs[i]
	if n.Count() == 1 {
		return c.requireRole(n.Roles...)
	}
	signers := map[entry.PublicKey]bool{}
	for _, r := range n.Roles {
		h, err := c.holders(r)
		if err != nil {
			return err
		}
		for _, id := range h {
			signers[c.acts[id]] = true
		}
	}
	if len(signers) < n.Count() {
		return forbidden(CodeFourEyes, "a %s entry needs the signatures of %d different keys holding the role %s; it has %d", c.p.Type, n.Count(), strings.Join(n.Roles, " or "), len(signers))
	}
	return nil
}

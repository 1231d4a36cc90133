package rules

import "github.com/tabularium/tabularium/personality/entry"

// Need is a role that the signers of an entry must hold, at the entry's
// position in the log, for the rules to accept it. The rules check an entry's
// roles against exactly the needs RequiredRoles returns, so a verifier that
// proves them (from role grants, offline) proves what the rules checked.
type Need struct {
	// Roles: the key must hold one of them. Root means being one of the
	// log's root keys.
	Roles []string
	// Key, if set, is the key that must hold the role (the pledgee of a
	// pledge); otherwise any signer may.
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

// requireNeed refuses unless some signer holds one of the roles of the
// entry's i-th need.
func (c *applyCtx) requireNeed(i int) *Error {
	return c.requireRole(c.needs[i].Roles...)
}

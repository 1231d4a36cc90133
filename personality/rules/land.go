package rules

import (
	"math/big"
	"regexp"

	"github.com/tabularium/tabularium/personality/entry"
)

var landObjectRE = regexp.MustCompile(`^land/[A-Za-z0-9._:-]{1,128}$`)

func init() {
	land := func(creates bool, apply func(*applyCtx, *Object) *Error, needs func(*entry.Payload) []Need, docs ...string) handler {
		return handler{kind: KindLand, object: landObjectRE, example: "land/<cadastral number>", creates: creates, docs: docs, apply: apply, needs: needs}
	}
	court := needsOf(role(RoleCourt))
	register := land(true, applyRegister, needsOf(role(RoleRegistrar)))
	register.createOnly = true
	handlers[entry.TypeLandRegister] = register
	handlers[entry.TypeLandTransfer] = land(false, applyTransfer, needsOf(role(RoleNotary, RoleRegistrar)))
	handlers[entry.TypeLandPledge] = land(false, applyPledge, pledgeNeeds)
	handlers[entry.TypeLandRelease] = land(false, applyRelease, nil)
	handlers[entry.TypeLandArrest] = land(false, applyArrest, court, "order")
	handlers[entry.TypeLandLift] = land(false, applyLift, court, "order")
	handlers[entry.TypeLandCourtOrder] = land(false, applyCourtOrder, court, "order")
	handlers[entry.TypeLandCorrect] = land(false, applyCorrect, needsOf(Need{Roles: []string{RoleRegistrar}, Signers: 2}), "record")
}

// checkShares refuses an owner list with a repeated or replaced key, or whose
// shares do not sum to exactly one.
func checkShares(c *applyCtx, what string, shares []entry.Share) *Error {
	sum := new(big.Rat)
	seen := map[entry.PublicKey]bool{}
	for _, s := range shares {
		if seen[s.Key] {
			return malformed(CodeDuplicateParty, "%s lists %s twice; give each party one share", what, s.Key)
		}
		seen[s.Key] = true
		if err := c.current(what, s.Key); err != nil {
			return err
		}
		r, err := entry.ParseShare(s.Share)
		if err != nil {
			return malformed(CodeMalformed, "%v", err)
		}
		sum.Add(sum, r)
	}
	if sum.Cmp(big.NewRat(1, 1)) != 0 {
		return conflict(CodeSharesNotOne, "the shares of the %s sum to %s, not 1; fix the shares", what, sum.RatString())
	}
	return nil
}

func keysOf(shares []entry.Share) []entry.PublicKey {
	out := make([]entry.PublicKey, len(shares))
	for i, s := range shares {
		out[i] = s.Key
	}
	return out
}

func notArrested(obj *Object) *Error {
	if len(obj.Arrests) > 0 {
		return conflict(CodeObjectArrested, "%s is under arrest %d (entry %d); only a court can lift it", obj.ID, obj.Arrests[0].Number, obj.Arrests[0].Index)
	}
	return nil
}

func setOwners(c *applyCtx, obj *Object, owners []entry.Share) {
	obj.Owners = append([]entry.Share(nil), owners...)
	obj.OwnerSets = append(obj.OwnerSets, OwnerSet{Since: c.index, Owners: obj.Owners})
}

func applyRegister(c *applyCtx, obj *Object) *Error {
	if err := c.requireNeed(0); err != nil {
		return err
	}
	f := fieldsOf[entry.OwnersFields](c)
	if err := checkShares(c, "owners", f.Owners); err != nil {
		return err
	}
	obj.Status, obj.Docs = StatusRecorded, c.p.Docs
	setOwners(c, obj, f.Owners)
	return nil
}

func applyTransfer(c *applyCtx, obj *Object) *Error {
	if err := notArrested(obj); err != nil {
		return err
	}
	f := fieldsOf[entry.TransferFields](c)
	if err := checkShares(c, "buyers", f.Buyers); err != nil {
		return err
	}
	if err := c.requireSigned("current owner", keysOf(obj.Owners)...); err != nil {
		return err
	}
	if err := c.requireSigned("buyer", keysOf(f.Buyers)...); err != nil {
		return err
	}
	for _, p := range obj.Pledges {
		if !c.signedBy(p.Pledgee) {
			return conflict(CodePledgeStanding, "pledge %d to %s stands on %s; the pledgee must co-sign the transfer or release the pledge first", p.Number, p.Pledgee, obj.ID)
		}
	}
	if err := c.requireNeed(0); err != nil {
		return err
	}
	setOwners(c, obj, f.Buyers)
	return nil
}

func applyPledge(c *applyCtx, obj *Object) *Error {
	if err := notArrested(obj); err != nil {
		return err
	}
	f := fieldsOf[entry.PledgeFields](c)
	if err := c.requireSigned("current owner", keysOf(obj.Owners)...); err != nil {
		return err
	}
	if err := c.requireSigned("the pledgee", f.Pledgee); err != nil {
		return err
	}
	bank := c.needs[0]
	if ok, err := c.holds(bank.Key, bank.Roles[0]); err != nil {
		return err
	} else if !ok {
		return forbidden(CodeNotBank, "the pledgee %s does not hold the role %s; only a bank can take a pledge", bank.Key, bank.Roles[0])
	}
	if err := c.requireNeed(1); err != nil {
		return err
	}
	obj.Counter++
	obj.Pledges = append(obj.Pledges, Pledge{Number: obj.Counter, Rank: uint64(len(obj.Pledges) + 1), Pledgee: f.Pledgee, Index: c.index})
	return nil
}

func applyRelease(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.ReleaseFields](c)
	for i, p := range obj.Pledges {
		if p.Number != f.Pledge {
			continue
		}
		if err := c.requireSigned("the pledgee", p.Pledgee); err != nil {
			return err
		}
		obj.Pledges = append(obj.Pledges[:i:i], obj.Pledges[i+1:]...)
		for j := range obj.Pledges {
			obj.Pledges[j].Rank = uint64(j + 1)
		}
		return nil
	}
	return conflict(CodeUnknownPledge, "no pledge number %d stands on %s", f.Pledge, obj.ID)
}

func applyArrest(c *applyCtx, obj *Object) *Error {
	if err := c.requireNeed(0); err != nil {
		return err
	}
	order, _ := c.p.Doc("order")
	obj.Counter++
	obj.Arrests = append(obj.Arrests, Arrest{Number: obj.Counter, Index: c.index, Order: order.Hash})
	return nil
}

func applyLift(c *applyCtx, obj *Object) *Error {
	if err := c.requireNeed(0); err != nil {
		return err
	}
	f := fieldsOf[entry.LiftFields](c)
	for i, a := range obj.Arrests {
		if a.Number == f.Arrest {
			obj.Arrests = append(obj.Arrests[:i:i], obj.Arrests[i+1:]...)
			return nil
		}
	}
	return conflict(CodeUnknownArrest, "no arrest number %d stands on %s", f.Arrest, obj.ID)
}

func applyCourtOrder(c *applyCtx, obj *Object) *Error {
	if err := c.requireNeed(0); err != nil {
		return err
	}
	f := fieldsOf[entry.CourtOrderFields](c)
	for _, s := range obj.OwnerSets {
		if s.Since == f.Restore {
			setOwners(c, obj, s.Owners)
			return nil
		}
	}
	return conflict(CodeUnknownOwnerSet, "no owner set of %s began at entry %d; name the index of an entry listed in owner_sets", obj.ID, f.Restore)
}

func applyCorrect(c *applyCtx, obj *Object) *Error {
	need := c.needs[0]
	regs, err := c.holders(need.Roles[0])
	if err != nil {
		return err
	}
	signers := map[entry.PublicKey]bool{}
	for _, r := range regs {
		signers[c.acts[r]] = true
	}
	if len(signers) < need.Count() {
		return forbidden(CodeFourEyes, "a correction needs the signatures of %d different registrars; it has %d", need.Count(), len(signers))
	}
	f := fieldsOf[entry.OwnersFields](c)
	if !sameShares(f.Owners, obj.Owners) {
		return conflict(CodeOwnersChanged, "a correction may not change the owners of %s; list the current owners unchanged, or ask a court for an order", obj.ID)
	}
	obj.Docs = c.p.Docs
	return nil
}

func sameShares(a, b []entry.Share) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[entry.PublicKey]string{}
	for _, s := range a {
		m[s.Key] = s.Share
	}
	for _, s := range b {
		if v, ok := m[s.Key]; !ok || v != s.Share {
			return false
		}
	}
	return true
}

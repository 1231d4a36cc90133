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
	pledge := land(false, applyPledge, pledgeNeeds)
	pledge.authorize = authorizePledge
	handlers[entry.TypeLandPledge] = pledge
	release := land(false, applyRelease, nil)
	release.authorize = authorizeRelease
	handlers[entry.TypeLandRelease] = release
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

// setOwners makes owners the object's owner set, from this entry, and moves
// the owners' standing with it.
func setOwners(c *applyCtx, obj *Object, owners []entry.Share) *Error {
	if err := c.adjustAll(keysOf(obj.Owners), asOwner, -1); err != nil {
		return err
	}
	obj.Owners = append([]entry.Share(nil), owners...)
	obj.OwnerSets = append(obj.OwnerSets, OwnerSet{Since: c.index, Owners: obj.Owners})
	return c.adjustAll(keysOf(owners), asOwner, +1)
}

func applyRegister(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.OwnersFields](c)
	if err := checkShares(c, "owners", f.Owners); err != nil {
		return err
	}
	obj.Status, obj.Docs = StatusRecorded, c.p.Docs
	return setOwners(c, obj, f.Owners)
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
	return setOwners(c, obj, f.Buyers)
}

// authorizePledge: the pledgee names its current key, signs, and is a bank
// (itself or through the key it replaced).
func authorizePledge(c *applyCtx, _ *Object) *Error {
	bank := c.needs[0]
	if err := c.current("the pledgee", bank.Key); err != nil {
		return err
	}
	if err := c.requireSigned("the pledgee", bank.Key); err != nil {
		return err
	}
	if ok, err := c.holdsAsParty(bank.Key, bank.Roles[0]); err != nil {
		return err
	} else if !ok {
		return forbidden(CodeNotBank, "the pledgee %s does not hold the role %s; only a bank can take a pledge", bank.Key, bank.Roles[0])
	}
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
	obj.Counter++
	obj.Pledges = append(obj.Pledges, Pledge{Number: obj.Counter, Rank: uint64(len(obj.Pledges) + 1), Pledgee: f.Pledgee, Index: c.index})
	return c.adjust(f.Pledgee, asPledgee, +1)
}

// authorizeRelease: only the pledgee releases its pledge.
func authorizeRelease(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.ReleaseFields](c)
	if obj != nil {
		for _, p := range obj.Pledges {
			if p.Number == f.Pledge {
				return c.requireSigned("the pledgee", p.Pledgee)
			}
		}
	}
	return conflict(CodeUnknownPledge, "no pledge number %d stands on %s", f.Pledge, c.p.Object)
}

func applyRelease(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.ReleaseFields](c)
	for i, p := range obj.Pledges {
		if p.Number == f.Pledge {
			removePledge(obj, i)
			return c.adjust(p.Pledgee, asPledgee, -1)
		}
	}
	return conflict(CodeUnknownPledge, "no pledge number %d stands on %s", f.Pledge, obj.ID)
}

// removePledge removes the i-th standing pledge and ranks the others again.
func removePledge(obj *Object, i int) {
	obj.Pledges = append(obj.Pledges[:i:i], obj.Pledges[i+1:]...)
	for j := range obj.Pledges {
		obj.Pledges[j].Rank = uint64(j + 1)
	}
}

func applyArrest(c *applyCtx, obj *Object) *Error {
	order, _ := c.p.Doc("order")
	obj.Counter++
	obj.Arrests = append(obj.Arrests, Arrest{Number: obj.Counter, Index: c.index, Order: order.Hash})
	return nil
}

func applyLift(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.LiftFields](c)
	for i, a := range obj.Arrests {
		if a.Number == f.Arrest {
			obj.Arrests = append(obj.Arrests[:i:i], obj.Arrests[i+1:]...)
			return nil
		}
	}
	return conflict(CodeUnknownArrest, "no arrest number %d stands on %s", f.Arrest, obj.ID)
}

// applyCourtOrder restores an earlier owner set. Every encumbrance created
// after the entry that began it and still standing — pledges the voided
// owners granted, arrests since — must be named by the order as kept or
// voided; a voided one is lifted.
func applyCourtOrder(c *applyCtx, obj *Object) *Error {
	f := fieldsOf[entry.CourtOrderFields](c)
	var restored *OwnerSet
	for i := range obj.OwnerSets {
		if obj.OwnerSets[i].Since == f.Restore {
			restored = &obj.OwnerSets[i]
			break
		}
	}
	if restored == nil {
		return conflict(CodeUnknownOwnerSet, "no owner set of %s began at entry %d; name the index of an entry listed in owner_sets", obj.ID, f.Restore)
	}
	fate := map[uint64]bool{} // number -> kept
	for _, n := range f.Keep {
		fate[n] = true
	}
	for _, n := range f.Void {
		fate[n] = false
	}
	since := map[uint64]bool{}
	var unstated []uint64
	for _, e := range encumbrances(obj) {
		if e.index <= f.Restore {
			continue
		}
		since[e.number] = true
		if _, ok := fate[e.number]; !ok {
			unstated = append(unstated, e.number)
		}
	}
	if len(unstated) > 0 {
		return conflict(CodeUnstatedEncumbrance, "encumbrances %v of %s were created after entry %d and still stand; the order must keep or void each of them (keep, void)", unstated, obj.ID, f.Restore)
	}
	for _, n := range append(append([]uint64(nil), f.Keep...), f.Void...) {
		if !since[n] {
			return conflict(CodeUnknownEncumbrance, "no pledge or arrest number %d created after entry %d stands on %s; name only those", n, f.Restore, obj.ID)
		}
	}
	for _, n := range f.Void {
		if err := voidEncumbrance(c, obj, n); err != nil {
			return err
		}
	}
	return setOwners(c, obj, restored.Owners)
}

type encumbrance struct{ number, index uint64 }

// encumbrances lists the standing pledges and arrests (their numbers share
// one counter).
func encumbrances(obj *Object) []encumbrance {
	var out []encumbrance
	for _, p := range obj.Pledges {
		out = append(out, encumbrance{p.Number, p.Index})
	}
	for _, a := range obj.Arrests {
		out = append(out, encumbrance{a.Number, a.Index})
	}
	return out
}

func voidEncumbrance(c *applyCtx, obj *Object, n uint64) *Error {
	for i, p := range obj.Pledges {
		if p.Number == n {
			removePledge(obj, i)
			return c.adjust(p.Pledgee, asPledgee, -1)
		}
	}
	for i, a := range obj.Arrests {
		if a.Number == n {
			obj.Arrests = append(obj.Arrests[:i:i], obj.Arrests[i+1:]...)
			return nil
		}
	}
	return nil
}

// applyCorrect corrects a record's documents; Apply has checked the four eyes
// (two different registrars).
func applyCorrect(c *applyCtx, obj *Object) *Error {
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

package rules

import (
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
)

// TestFreshKeysCannotRotate is the log-growing attack: two keys nobody ever
// named rotate one to the other. Nothing may be appended.
func TestFreshKeysCannotRotate(t *testing.T) {
	for _, kind := range []string{KindLand, KindDiplomas, KindVaccinations} {
		t.Run(kind, func(t *testing.T) {
			l := newTestLog(t, kind)
			a, b := newKey(t), newKey(t)
			l.refused(CodeNoStanding, l.rotate(a, b), a, b)
			if kind == KindLand {
				// Even the registrar and the court cannot recover a key
				// that is nobody's in this log.
				l2 := newLandLog(t)
				l2.refused(CodeNoStanding, l2.payload(entry.TypeKeyRecover, "key/"+string(a.Public), &entry.KeyFields{New: b.Public}), l2.reg, l2.court)
			}
		})
	}
}

func TestStandingComesAndGoesWithTheRegistry(t *testing.T) {
	l := newLandLog(t)
	owner, buyer, next, later := newKey(t), newKey(t), newKey(t), newKey(t)
	id := l.register(owner)
	// An owner may rotate; the standing moves to the new key.
	l.must(l.rotate(owner, next), owner, next)
	if ko := l.object("key/" + string(next.Public)); ko.Standing == nil || ko.Standing.Owner != 1 {
		t.Fatalf("new key's standing = %+v", ko.Standing)
	}
	if ko := l.object("key/" + string(owner.Public)); ko.Standing != nil {
		t.Fatalf("old key kept standing %+v", ko.Standing)
	}
	// Once it sold its only parcel, it has none.
	l.transfer(id, []*entry.PrivateKey{next}, []*entry.PrivateKey{buyer})
	l.refused(CodeNoStanding, l.rotate(next, later), next, later)
	l.must(l.rotate(buyer, later), buyer, later)

	// A role holder, until its role is revoked; a pledgee, until released.
	n2, n3 := newKey(t), newKey(t)
	l.must(l.rotate(l.notary, n2), l.notary, n2)
	l.revokeRole(RoleNotary, l.notary.Public, l.root)
	l.refused(CodeNoStanding, l.rotate(n2, n3), n2, n3)

	// A root key has standing by the configuration.
	r2 := newKey(t)
	l.must(l.rotate(l.root, r2), l.root, r2)
}

func TestPledgeeStandingEndsWithThePledge(t *testing.T) {
	l := newLandLog(t)
	owner, b2, b3 := newKey(t), newKey(t), newKey(t)
	id := l.register(owner)
	l.pledge(id, l.bank, owner)
	l.revokeRole(RoleBank, l.bank.Public, l.root)
	// The bank lost its role, but its pledge stands: it may still rotate.
	l.must(l.rotate(l.bank, b2), l.bank, b2)
	l.must(l.payload(entry.TypeLandRelease, id, &entry.ReleaseFields{Pledge: 1}), b2)
	l.refused(CodeNoStanding, l.rotate(b2, b3), b2, b3)
}

func TestCredentialStanding(t *testing.T) {
	l := newTestLog(t, KindDiplomas)
	ministry, uni, holder, u2, u3, h2 := newKey(t), newKey(t), newKey(t), newKey(t), newKey(t), newKey(t)
	l.grant(RoleEduMinistry, ministry, l.root)
	l.grant(RoleUniversity, uni, ministry)
	d := l.newID("diploma")
	l.must(l.payload(entry.TypeDiplomaIssue, d, &entry.HolderFields{Holder: holder.Public}, testDoc("record")), uni)
	l.revokeRole(RoleUniversity, uni.Public, ministry)
	// The issuer of a live diploma, and its holder, have standing.
	l.must(l.rotate(uni, u2), uni, u2)
	l.must(l.payload(entry.TypeDiplomaRevoke, d, &entry.NoFields{}), u2) // the new key revokes for the issuer
	l.refused(CodeNoStanding, l.rotate(u2, u3), u2, u3)
	l.refused(CodeNoStanding, l.rotate(holder, h2), holder, h2)

	v := newTestLog(t, KindVaccinations)
	health, clinic, c2 := newKey(t), newKey(t), newKey(t)
	v.grant(RoleHealth, health, v.root)
	v.grant(RoleVaccinationIs, clinic, health)
	cert := v.newID("vaccination")
	v.must(v.payload(entry.TypeVaccinationIssue, cert, &entry.BatchFields{Batch: "B-1"}, testDoc("contents")), clinic)
	v.revokeRole(RoleVaccinationIs, clinic.Public, health)
	v.must(v.rotate(clinic, c2), clinic, c2)
}

// TestStandingIsBookkeeping: a party's standing changes without making the
// entry one of its key object's own, so a rotation signed before the party
// bought a parcel does not go stale.
func TestStandingIsBookkeeping(t *testing.T) {
	l := newLandLog(t)
	owner, next := newKey(t), newKey(t)
	l.register(owner)
	rot := l.rotate(owner, next) // prev: empty, the key object has no entry of its own
	l.register(owner)
	if ko := l.object("key/" + string(owner.Public)); ko.Standing.Owner != 2 || len(ko.History) != 0 || len(ko.Hash) != 0 {
		t.Fatalf("key object = %+v", ko)
	}
	l.must(rot, owner, next)
}

// TestRecoveryNeedsTwoParties: one key holding both roles is one party.
func TestRecoveryNeedsTwoParties(t *testing.T) {
	l := newLandLog(t)
	owner, fresh := newKey(t), newKey(t)
	l.register(owner)
	l.grant(RoleCourt, l.reg, l.root) // the registrar is also a court
	rec := func() *entry.Payload {
		return l.payload(entry.TypeKeyRecover, "key/"+string(owner.Public), &entry.KeyFields{New: fresh.Public})
	}
	l.refused(CodeSameParty, rec(), l.reg)
	l.refused(CodeRoleNotHeld, rec(), l.reg2)
	l.must(rec(), l.reg, l.court)
}

// TestRecoveryBySuccessorsOfOneParty: a registrar that rotated its key is
// still one party, however many of its keys sign.
func TestRecoveryBySuccessorsOfOneParty(t *testing.T) {
	l := newLandLog(t)
	owner, fresh, next := newKey(t), newKey(t), newKey(t)
	l.register(owner)
	l.grant(RoleCourt, l.reg, l.root)
	l.must(l.rotate(l.reg, next), l.reg, next)
	l.refused(CodeSameParty, l.payload(entry.TypeKeyRecover, "key/"+string(owner.Public), &entry.KeyFields{New: fresh.Public}), next, l.reg)
}

func TestPledgeeMustBeCurrentAndMayHaveRotated(t *testing.T) {
	l := newLandLog(t)
	owner, nb := newKey(t), newKey(t)
	id := l.register(owner)
	l.must(l.rotate(l.bank, nb), l.bank, nb)
	pledgeTo := func(k *entry.PrivateKey) *entry.Payload {
		return l.payload(entry.TypeLandPledge, id, &entry.PledgeFields{Pledgee: k.Public})
	}
	l.refused(CodeKeySuperseded, pledgeTo(l.bank), owner, l.bank, nb, l.reg)
	// The bank takes the pledge with its new key: it holds the role granted
	// to the old one.
	l.must(pledgeTo(nb), owner, nb, l.reg)
	if o := l.object(id); len(o.Pledges) != 1 || o.Pledges[0].Pledgee != nb.Public {
		t.Fatalf("pledges = %+v", o.Pledges)
	}
	// A key that is not a bank's, and never was, still may not.
	stranger := newKey(t)
	l.refused(CodeNotBank, pledgeTo(stranger), owner, stranger, l.reg)
}

package api

import (
	"net/http"
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// landParties is a land registry with its officers and two co-owners.
type landParties struct {
	*env
	reg1, reg2, notary, bank, court, o1, o2, buyer *entry.PrivateKey
}

func newLand(t *testing.T) *landParties {
	e := newEnv(t, rules.KindLand)
	l := &landParties{env: e, reg1: key(t), reg2: key(t), notary: key(t), bank: key(t), court: key(t), o1: key(t), o2: key(t), buyer: key(t)}
	e.grant(rules.RoleRegistrar, l.reg1, e.root)
	e.grant(rules.RoleRegistrar, l.reg2, e.root)
	e.grant(rules.RoleNotary, l.notary, e.root)
	e.grant(rules.RoleBank, l.bank, e.root)
	e.grant(rules.RoleCourt, l.court, e.root)
	return l
}

// parcel registers a new parcel owned half and half by o1 and o2.
func (l *landParties) parcel() string {
	id := newParcel()
	l.must(l.payload(entry.TypeLandRegister, id, &entry.OwnersFields{Owners: []entry.Share{share(l.o1, "1/2"), share(l.o2, "1/2")}}, doc("deed")), l.reg1)
	return id
}

func (l *landParties) transfer(id string) *entry.Payload {
	return l.payload(entry.TypeLandTransfer, id, &entry.TransferFields{Buyers: []entry.Share{share(l.buyer, "1")}}, doc("deed"))
}

func (l *landParties) arrest(id string) {
	l.must(l.payload(entry.TypeLandArrest, id, &entry.NoFields{}, doc("order")), l.court)
}

func (l *landParties) pledge(id string) {
	l.must(l.payload(entry.TypeLandPledge, id, &entry.PledgeFields{Pledgee: l.bank.Public}, doc("contract")), l.o1, l.o2, l.bank, l.reg1)
}

func TestLandRegister(t *testing.T) {
	l := newLand(t)
	owners := &entry.OwnersFields{Owners: []entry.Share{share(l.o1, "1/2"), share(l.o2, "1/2")}}
	id := newParcel()
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, l.payload(entry.TypeLandRegister, id, owners), l.o1)
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, l.payload(entry.TypeLandRegister, id, owners), l.notary)
	l.refused(http.StatusConflict, rules.CodeSharesNotOne, l.payload(entry.TypeLandRegister, id, &entry.OwnersFields{Owners: []entry.Share{share(l.o1, "1/2")}}), l.reg1)
	l.refused(http.StatusBadRequest, rules.CodeDuplicateParty, l.payload(entry.TypeLandRegister, id, &entry.OwnersFields{Owners: []entry.Share{share(l.o1, "1/2"), share(l.o1, "1/2")}}), l.reg1)
	l.must(l.payload(entry.TypeLandRegister, id, owners), l.reg1)
	l.refused(http.StatusConflict, rules.CodeObjectExists, l.payload(entry.TypeLandRegister, id, owners), l.reg1)
	o, _ := l.object(id)
	if o.Status != rules.StatusRecorded || len(o.Owners) != 2 || len(o.History) != 1 {
		t.Fatalf("state = %+v", o)
	}
}

func TestLandTransfer(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, l.transfer(id), l.o1, l.buyer, l.notary)
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, l.transfer(id), l.o1, l.o2, l.notary)
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, l.transfer(id), l.o1, l.o2, l.buyer)
	l.refused(http.StatusConflict, rules.CodeSharesNotOne, l.payload(entry.TypeLandTransfer, id, &entry.TransferFields{Buyers: []entry.Share{share(l.buyer, "2/3")}}), l.o1, l.o2, l.buyer, l.notary)
	stale := l.transfer(id)
	l.must(l.transfer(id), l.o1, l.o2, l.buyer, l.notary)
	l.refused(http.StatusConflict, rules.CodeStalePrev, stale, l.o1, l.o2, l.buyer, l.notary)
	o, _ := l.object(id)
	if len(o.Owners) != 1 || o.Owners[0].Key != l.buyer.Public || len(o.OwnerSets) != 2 {
		t.Fatalf("owners = %+v", o.Owners)
	}
	// A registrar may stand in for the notary.
	back := l.payload(entry.TypeLandTransfer, id, &entry.TransferFields{Buyers: []entry.Share{share(l.o1, "1")}})
	l.must(back, l.buyer, l.o1, l.reg2)
}

func TestLandTransferRefusedWhileArrested(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	l.arrest(id)
	l.refused(http.StatusConflict, rules.CodeObjectArrested, l.transfer(id), l.o1, l.o2, l.buyer, l.notary)
}

func TestLandTransferWithStandingPledge(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	l.pledge(id)
	l.refused(http.StatusConflict, rules.CodePledgeStanding, l.transfer(id), l.o1, l.o2, l.buyer, l.notary)
	l.must(l.transfer(id), l.o1, l.o2, l.buyer, l.notary, l.bank)
	o, _ := l.object(id)
	if len(o.Pledges) != 1 {
		t.Fatalf("the pledge must survive the transfer: %+v", o.Pledges)
	}
}

func TestLandPledge(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	pl := func() *entry.Payload {
		return l.payload(entry.TypeLandPledge, id, &entry.PledgeFields{Pledgee: l.bank.Public})
	}
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, pl(), l.o1, l.bank, l.reg1)
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, pl(), l.o1, l.o2, l.reg1)
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, pl(), l.o1, l.o2, l.bank)
	l.refused(http.StatusForbidden, rules.CodeNotBank, l.payload(entry.TypeLandPledge, id, &entry.PledgeFields{Pledgee: l.notary.Public}), l.o1, l.o2, l.notary, l.reg1)
	l.pledge(id)
	l.pledge(id)
	o, _ := l.object(id)
	if len(o.Pledges) != 2 || o.Pledges[1].Rank != 2 {
		t.Fatalf("pledges = %+v", o.Pledges)
	}
	l.arrest(id)
	l.refused(http.StatusConflict, rules.CodeObjectArrested, pl(), l.o1, l.o2, l.bank, l.reg1)
}

func TestLandRelease(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	l.pledge(id)
	l.pledge(id)
	rel := func(n uint64) *entry.Payload {
		return l.payload(entry.TypeLandRelease, id, &entry.ReleaseFields{Pledge: n})
	}
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, rel(1), l.o1, l.o2, l.reg1)
	l.refused(http.StatusConflict, rules.CodeUnknownPledge, rel(7), l.bank)
	l.must(rel(1), l.bank)
	o, _ := l.object(id)
	if len(o.Pledges) != 1 || o.Pledges[0].Number != 2 || o.Pledges[0].Rank != 1 {
		t.Fatalf("pledges = %+v", o.Pledges)
	}
}

func TestLandArrestAndLift(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, l.payload(entry.TypeLandArrest, id, &entry.NoFields{}, doc("order")), l.reg1)
	l.refused(http.StatusBadRequest, rules.CodeMissingDocument, l.payload(entry.TypeLandArrest, id, &entry.NoFields{}), l.court)
	l.arrest(id)
	lift := func(n uint64) *entry.Payload {
		return l.payload(entry.TypeLandLift, id, &entry.LiftFields{Arrest: n}, doc("order"))
	}
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, lift(1), l.reg1, l.reg2)
	l.refused(http.StatusConflict, rules.CodeUnknownArrest, lift(9), l.court)
	l.must(lift(1), l.court)
	l.must(l.transfer(id), l.o1, l.o2, l.buyer, l.notary)
}

func TestLandCourtOrder(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	o, _ := l.object(id)
	first := o.OwnerSets[0].Since
	l.must(l.transfer(id), l.o1, l.o2, l.buyer, l.notary)
	order := func(idx uint64) *entry.Payload {
		return l.payload(entry.TypeLandCourtOrder, id, &entry.CourtOrderFields{Restore: idx}, doc("order"))
	}
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, order(first), l.reg1)
	l.refused(http.StatusBadRequest, rules.CodeMissingDocument, l.payload(entry.TypeLandCourtOrder, id, &entry.CourtOrderFields{Restore: first}), l.court)
	l.refused(http.StatusConflict, rules.CodeUnknownOwnerSet, order(first+1000), l.court)
	l.must(order(first), l.court)
	o, _ = l.object(id)
	if len(o.Owners) != 2 || len(o.OwnerSets) != 3 {
		t.Fatalf("owners after the order = %+v", o.Owners)
	}
}

func TestLandCorrection(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	same := &entry.OwnersFields{Owners: []entry.Share{share(l.o2, "1/2"), share(l.o1, "1/2")}}
	corr := func(f *entry.OwnersFields) *entry.Payload {
		return l.payload(entry.TypeLandCorrect, id, f, doc("record"))
	}
	l.refused(http.StatusForbidden, rules.CodeFourEyes, corr(same), l.reg1)
	l.refused(http.StatusForbidden, rules.CodeFourEyes, corr(same), l.reg1, l.notary)
	l.refused(http.StatusConflict, rules.CodeOwnersChanged, corr(&entry.OwnersFields{Owners: []entry.Share{share(l.buyer, "1")}}), l.reg1, l.reg2)
	l.refused(http.StatusBadRequest, rules.CodeMissingDocument, l.payload(entry.TypeLandCorrect, id, same), l.reg1, l.reg2)
	l.must(corr(same), l.reg1, l.reg2)
}

func TestLandUnknownObject(t *testing.T) {
	l := newLand(t)
	l.refused(http.StatusConflict, rules.CodeUnknownObject, l.transfer("land/nowhere"), l.o1, l.buyer, l.notary)
	if _, code := l.object("land/nowhere"); code != http.StatusNotFound {
		t.Fatalf("GET unknown object: %d", code)
	}
}

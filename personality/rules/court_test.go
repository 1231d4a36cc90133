package rules

import (
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
)

// TestCourtOrderStatesEveryEncumbranceSince: register to A, transfer to B,
// B pledges to a bank, a court restores A. The order must say what becomes
// of the bank's pledge; an arrest since must be stated too.
func TestCourtOrderStatesEveryEncumbranceSince(t *testing.T) {
	l := newLandLog(t)
	a, b := newKey(t), newKey(t)
	id := l.register(a)
	restore := l.object(id).OwnerSets[0].Since
	l.pledge(id, l.bank, a) // pledge 1, granted by A itself: before the transfer
	l.transfer(id, []*entry.PrivateKey{a}, []*entry.PrivateKey{b}, l.bank)
	l.pledge(id, l.bank, b)                                                                   // pledge 2, granted by B
	l.must(l.payload(entry.TypeLandArrest, id, &entry.NoFields{}, testDoc("order")), l.court) // arrest 3
	order := func(keep, void []uint64) *entry.Payload {
		return l.payload(entry.TypeLandCourtOrder, id, &entry.CourtOrderFields{Restore: restore, Keep: keep, Void: void}, testDoc("order"))
	}
	// Pledges 1 and 2 and arrest 3 were all created after the restored
	// owner set began; each must be named.
	l.refused(CodeUnstatedEncumbrance, order(nil, nil), l.court)
	l.refused(CodeUnstatedEncumbrance, order([]uint64{1}, []uint64{2}), l.court)
	l.refused(CodeUnknownEncumbrance, order([]uint64{1, 3}, []uint64{2, 7}), l.court)
	// Authorisation first: the same order signed by a registrar is refused
	// for its signer, whatever it says.
	l.refused(CodeRoleNotHeld, order(nil, nil), l.reg)
	l.must(order([]uint64{1, 3}, []uint64{2}), l.court)
	o := l.object(id)
	if len(o.Owners) != 1 || o.Owners[0].Key != a.Public {
		t.Fatalf("owners = %+v", o.Owners)
	}
	if len(o.Pledges) != 1 || o.Pledges[0].Number != 1 || o.Pledges[0].Rank != 1 || len(o.Arrests) != 1 {
		t.Fatalf("encumbrances = %+v %+v", o.Pledges, o.Arrests)
	}
	if ko := l.object("key/" + string(l.bank.Public)); ko.Standing.Pledgee != 1 {
		t.Fatalf("bank standing = %+v", ko.Standing)
	}
	if ko := l.object("key/" + string(b.Public)); ko.Standing != nil {
		t.Fatalf("voided owner keeps standing %+v", ko.Standing)
	}
}

// TestCourtOrderEncumbrancesBeforeTheRestoredPoint: encumbrances older than
// the restored owner set stand, and the order may not name them.
func TestCourtOrderEncumbrancesBeforeTheRestoredPoint(t *testing.T) {
	l := newLandLog(t)
	a, b, c := newKey(t), newKey(t), newKey(t)
	id := l.register(a)
	l.pledge(id, l.bank, a) // 1
	l.transfer(id, []*entry.PrivateKey{a}, []*entry.PrivateKey{b}, l.bank)
	restore := l.object(id).OwnerSets[1].Since
	l.transfer(id, []*entry.PrivateKey{b}, []*entry.PrivateKey{c}, l.bank)
	l.pledge(id, l.bank, c) // 2
	order := func(void []uint64) *entry.Payload {
		return l.payload(entry.TypeLandCourtOrder, id, &entry.CourtOrderFields{Restore: restore, Void: void}, testDoc("order"))
	}
	l.refused(CodeUnknownEncumbrance, order([]uint64{1, 2}), l.court)
	l.must(order([]uint64{2}), l.court)
	if o := l.object(id); len(o.Pledges) != 1 || o.Pledges[0].Number != 1 || o.Owners[0].Key != b.Public {
		t.Fatalf("state = %+v", o)
	}
}

package rules

import (
	"bytes"
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
)

// TestUnauthorisedLearnsNothingAboutState: for every entry type, a signer
// who may not make the entry is refused for that (403), the same whether the
// object exists or not and whatever prev it names — never with stale-prev,
// unknown-object or another answer about the object's state.
func TestUnauthorisedLearnsNothingAboutState(t *testing.T) {
	stale := bytes.Repeat([]byte{0xff}, 32)
	land := newLandLog(t)
	owner, fresh := newKey(t), newKey(t)
	parcel := land.register(owner)
	land.pledge(parcel, land.bank, owner)
	land.must(land.payload(entry.TypeLandArrest, parcel, &entry.NoFields{}, testDoc("order")), land.court)
	pending := newKey(t)
	land.register(pending)
	land.must(land.payload(entry.TypeKeyRecover, "key/"+string(pending.Public), &entry.KeyFields{New: fresh.Public}), land.reg, land.court)

	dip := newTestLog(t, KindDiplomas)
	ministry, uni, holder := newKey(t), newKey(t), newKey(t)
	dip.grant(RoleEduMinistry, ministry, dip.root)
	dip.grant(RoleUniversity, uni, ministry)
	diploma := dip.newID("diploma")
	dip.must(dip.payload(entry.TypeDiplomaIssue, diploma, &entry.HolderFields{Holder: holder.Public}, testDoc("record")), uni)

	vac := newVaccinations(t)
	cert := vac.issue("B-1")

	type tc struct {
		log            *testLog
		typ            string
		object, absent string
		fields         any
		docs           []entry.Commitment
	}
	regRole := "role/registrar/" + string(land.reg.Public)
	cases := []tc{
		{land.testLog, entry.TypeRoleGrant, regRole, "role/registrar/" + string(fresh.Public), nil, nil},
		{land.testLog, entry.TypeRoleRevoke, regRole, "role/registrar/" + string(fresh.Public), nil, nil},
		{land.testLog, entry.TypeKeyRotate, "key/" + string(owner.Public), "key/" + string(fresh.Public), &entry.KeyFields{New: newKey(t).Public}, nil},
		{land.testLog, entry.TypeKeyRecover, "key/" + string(owner.Public), "key/" + string(fresh.Public), &entry.KeyFields{New: newKey(t).Public}, nil},
		{land.testLog, entry.TypeKeyRecoverCancel, "key/" + string(pending.Public), "key/" + string(fresh.Public), &entry.NoFields{}, nil},
		{land.testLog, entry.TypeKeyRecoverComplete, "key/" + string(pending.Public), "", &entry.NoFields{}, nil},
		{land.testLog, entry.TypeLandRegister, parcel, "land/absent", &entry.OwnersFields{Owners: owners(fresh)}, []entry.Commitment{testDoc("deed")}},
		{land.testLog, entry.TypeLandTransfer, parcel, "land/absent", &entry.TransferFields{Buyers: owners(fresh)}, nil},
		{land.testLog, entry.TypeLandPledge, parcel, "land/absent", &entry.PledgeFields{Pledgee: land.bank.Public}, nil},
		{land.testLog, entry.TypeLandRelease, parcel, "", &entry.ReleaseFields{Pledge: 1}, nil},
		{land.testLog, entry.TypeLandArrest, parcel, "land/absent", &entry.NoFields{}, []entry.Commitment{testDoc("order")}},
		{land.testLog, entry.TypeLandLift, parcel, "land/absent", &entry.LiftFields{Arrest: 2}, []entry.Commitment{testDoc("order")}},
		{land.testLog, entry.TypeLandCourtOrder, parcel, "land/absent", &entry.CourtOrderFields{Restore: 1}, []entry.Commitment{testDoc("order")}},
		{land.testLog, entry.TypeLandCorrect, parcel, "land/absent", &entry.OwnersFields{Owners: owners(owner)}, []entry.Commitment{testDoc("record")}},
		{dip, entry.TypeDiplomaIssue, diploma, dip.newID("diploma"), &entry.HolderFields{Holder: fresh.Public}, []entry.Commitment{testDoc("record")}},
		{dip, entry.TypeDiplomaRevoke, diploma, dip.newID("diploma"), &entry.NoFields{}, nil},
		{vac.testLog, entry.TypeVaccinationIssue, cert, vac.newID("vaccination"), &entry.BatchFields{Batch: "B-1"}, []entry.Commitment{testDoc("contents")}},
		{vac.testLog, entry.TypeVaccinationRevoke, cert, vac.newID("vaccination"), &entry.NoFields{}, nil},
		{vac.testLog, entry.TypeVaccinationRecall, "batch/B-1", "batch/B-9", &entry.NoFields{}, nil},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			fields := c.fields
			if fields == nil {
				fields = &entry.RoleFields{Role: RoleRegistrar, Holder: keyOf(c.object[len("role/registrar/"):])}
			}
			stranger := newKey(t)
			var codes []string
			for _, obj := range []string{c.object, c.absent} {
				if obj == "" {
					continue
				}
				for _, prev := range [][]byte{nil, stale} {
					f := fields
					if rf, ok := fields.(*entry.RoleFields); ok {
						f = &entry.RoleFields{Role: rf.Role, Holder: keyOf(obj[len("role/registrar/"):])}
					}
					p := c.log.payload(c.typ, obj, f, c.docs...)
					p.Prev = prev
					err := c.log.apply(p, stranger)
					if err == nil || err.Class != ClassForbidden {
						t.Fatalf("%s on %s (prev %x) by a stranger: %v, want a 403 refusal", c.typ, obj, prev, err)
					}
					codes = append(codes, err.Code)
				}
			}
			for _, code := range codes {
				if code != codes[0] {
					t.Fatalf("the refusals differ with the object's state: %v", codes)
				}
			}
		})
	}
}

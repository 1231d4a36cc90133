package api

import (
	"net/http"
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

func TestDiplomas(t *testing.T) {
	e := newEnv(t, rules.KindDiplomas)
	ministry, uni, other, holder := key(t), key(t), key(t), key(t)
	e.grant(rules.RoleEduMinistry, ministry, e.root)
	accredit := func(k *entry.PrivateKey, typ string) *entry.Payload {
		return e.payload(typ, "role/university/"+string(k.Public), &entry.RoleFields{Role: rules.RoleUniversity, Holder: k.Public})
	}
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, accredit(uni, entry.TypeRoleGrant), e.root)
	e.must(accredit(uni, entry.TypeRoleGrant), ministry)

	issue := func(id string, k *entry.PrivateKey) *entry.Payload {
		return e.payload(entry.TypeDiplomaIssue, hashedID("diploma", id), &entry.HolderFields{Holder: holder.Public}, doc("record"))
	}
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, issue("D-1", other), other)
	e.refused(http.StatusBadRequest, rules.CodeMissingDocument, e.payload(entry.TypeDiplomaIssue, hashedID("diploma", "D-1"), &entry.HolderFields{Holder: holder.Public}), uni)
	e.refused(http.StatusBadRequest, rules.CodeWrongObject, e.payload(entry.TypeDiplomaIssue, "diploma/D-1", &entry.HolderFields{Holder: holder.Public}, doc("record")), uni)
	e.must(issue("D-1", uni), uni)
	e.refused(http.StatusConflict, rules.CodeObjectExists, issue("D-1", uni), uni)
	e.must(issue("D-2", uni), uni)
	e.must(issue("D-3", uni), uni)

	revoke := func(id string) *entry.Payload {
		return e.payload(entry.TypeDiplomaRevoke, hashedID("diploma", id), &entry.NoFields{})
	}
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, revoke("D-1"), other)
	e.must(revoke("D-1"), uni)
	e.refused(http.StatusConflict, rules.CodeAlreadyRevoked, revoke("D-1"), uni)
	e.must(revoke("D-2"), ministry)

	// Withdrawn accreditation: no more diplomas, earlier ones stay valid.
	e.must(accredit(uni, entry.TypeRoleRevoke), ministry)
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, issue("D-4", uni), uni)
	o, _ := e.object(hashedID("diploma", "D-3"))
	if o.Status != rules.StatusValid || o.Issuer != uni.Public {
		t.Fatalf("D-3 = %+v", o)
	}
}

func TestVaccinations(t *testing.T) {
	e := newEnv(t, rules.KindVaccinations)
	health, clinic, other := key(t), key(t), key(t)
	e.grant(rules.RoleHealth, health, e.root)
	register := func(typ string) *entry.Payload {
		return e.payload(typ, "role/vaccination-issuer/"+string(clinic.Public), &entry.RoleFields{Role: rules.RoleVaccinationIs, Holder: clinic.Public})
	}
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, register(entry.TypeRoleGrant), clinic)
	e.must(register(entry.TypeRoleGrant), health)

	issue := func(cert, batch string) *entry.Payload {
		return e.payload(entry.TypeVaccinationIssue, hashedID("vaccination", cert), &entry.BatchFields{Batch: batch}, doc("contents"))
	}
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, issue("C-1", "B-1"), other)
	e.refused(http.StatusBadRequest, rules.CodeMissingDocument, e.payload(entry.TypeVaccinationIssue, hashedID("vaccination", "C-1"), &entry.BatchFields{Batch: "B-1"}), clinic)
	for _, c := range []string{"C-1", "C-2", "C-3"} {
		e.must(issue(c, "B-1"), clinic)
	}
	e.must(issue("C-4", "B-2"), clinic)
	e.refused(http.StatusConflict, rules.CodeObjectExists, issue("C-1", "B-1"), clinic)

	revoke := func(cert string) *entry.Payload {
		return e.payload(entry.TypeVaccinationRevoke, hashedID("vaccination", cert), &entry.NoFields{})
	}
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, revoke("C-1"), other)
	e.must(revoke("C-1"), clinic)
	e.refused(http.StatusConflict, rules.CodeAlreadyRevoked, revoke("C-1"), health)

	recall := func(b string) *entry.Payload {
		return e.payload(entry.TypeVaccinationRecall, "batch/"+b, &entry.NoFields{})
	}
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, recall("B-1"), clinic)
	e.refused(http.StatusConflict, rules.CodeUnknownObject, recall("B-9"), health)
	e.must(recall("B-1"), health)
	e.refused(http.StatusConflict, rules.CodeAlreadyRevoked, recall("B-1"), health)
	for cert, want := range map[string]string{"C-2": rules.StatusRevoked, "C-3": rules.StatusRevoked, "C-4": rules.StatusValid} {
		o, _ := e.object(hashedID("vaccination", cert))
		if o.Status != want {
			t.Errorf("%s after the recall of B-1: %s, want %s", cert, o.Status, want)
		}
	}
	e.refused(http.StatusConflict, rules.CodeBatchRecalled, issue("C-5", "B-1"), clinic)

	e.must(register(entry.TypeRoleRevoke), health)
	e.refused(http.StatusForbidden, rules.CodeRoleNotHeld, issue("C-6", "B-2"), clinic)
}

package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

func TestRoleGrantAndRevoke(t *testing.T) {
	l := newLand(t)
	r3 := key(t)
	obj := "role/registrar/" + string(r3.Public)
	grant := func() *entry.Payload {
		return l.payload(entry.TypeRoleGrant, obj, &entry.RoleFields{Role: rules.RoleRegistrar, Holder: r3.Public})
	}
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, grant(), l.reg1)
	l.refused(http.StatusBadRequest, rules.CodeWrongObject, l.payload(entry.TypeRoleGrant, "role/registrar/"+string(l.o1.Public), &entry.RoleFields{Role: rules.RoleRegistrar, Holder: r3.Public}), l.root)
	l.refused(http.StatusBadRequest, rules.CodeUnknownRole, l.payload(entry.TypeRoleGrant, "role/emperor/"+string(r3.Public), &entry.RoleFields{Role: "emperor", Holder: r3.Public}), l.root)
	l.must(grant(), l.root)
	l.refused(http.StatusConflict, rules.CodeRoleAlreadyHeld, grant(), l.root)
	id := newParcel()
	reg := func() *entry.Payload {
		return l.payload(entry.TypeLandRegister, id, &entry.OwnersFields{Owners: []entry.Share{share(l.o1, "1")}})
	}
	l.must(reg(), r3)
	revoke := func() *entry.Payload {
		return l.payload(entry.TypeRoleRevoke, obj, &entry.RoleFields{Role: rules.RoleRegistrar, Holder: r3.Public})
	}
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, revoke(), r3)
	l.must(revoke(), l.root)
	l.refused(http.StatusConflict, rules.CodeRoleNotActive, revoke(), l.root)
	id = newParcel()
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, reg(), r3)
}

func TestKeyRotation(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	next := key(t)
	rot := func(k *entry.PrivateKey) *entry.Payload {
		return l.payload(entry.TypeKeyRotate, "key/"+string(l.o1.Public), &entry.KeyFields{New: k.Public})
	}
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, rot(next), next)
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, rot(next), l.o1)
	l.must(rot(next), l.o1, next)
	l.refused(http.StatusConflict, rules.CodeKeySuperseded, rot(key(t)), l.o1)
	// The old key no longer counts; the new one signs for the co-owner.
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, l.transfer(id), l.o1, l.o2, l.buyer, l.notary)
	l.must(l.transfer(id), next, l.o2, l.buyer, l.notary)
	// The old key may not be named as a party any more.
	l.refused(http.StatusConflict, rules.CodeKeySuperseded, l.payload(entry.TypeLandTransfer, id, &entry.TransferFields{Buyers: []entry.Share{share(l.o1, "1")}}), l.buyer, l.notary, l.o1)
}

func TestKeyRecovery(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	lost := "key/" + string(l.o1.Public)
	fresh := key(t)
	rec := func() *entry.Payload {
		return l.payload(entry.TypeKeyRecover, lost, &entry.KeyFields{New: fresh.Public})
	}
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, rec(), l.reg1)
	l.refused(http.StatusForbidden, rules.CodeRoleNotHeld, rec(), l.court)
	l.must(rec(), l.reg1, l.court)
	l.refused(http.StatusConflict, rules.CodeRecoveryPending, rec(), l.reg1, l.court)
	o, _ := l.object(lost)
	if o.Status != rules.StatusPending || o.Recovery == nil || o.Recovery.EffectiveAt <= baseTime+l.cfg.RecoveryWait {
		t.Fatalf("pending recovery not visible in state: %+v", o)
	}
	complete := func() *entry.Payload { return l.payload(entry.TypeKeyRecoverComplete, lost, &entry.NoFields{}) }
	l.refused(http.StatusConflict, rules.CodeRecoveryWaiting, complete(), fresh)

	// The owner, who still has the key, cancels.
	cancel := func() *entry.Payload { return l.payload(entry.TypeKeyRecoverCancel, lost, &entry.NoFields{}) }
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, cancel(), fresh)
	l.must(cancel(), l.o1)
	l.refused(http.StatusConflict, rules.CodeNoRecovery, cancel(), l.o1)

	// Again, and this time the waiting period passes.
	l.must(rec(), l.reg1, l.court)
	l.clock.Add(l.cfg.RecoveryWait)
	l.refused(http.StatusForbidden, rules.CodeMissingSignature, complete(), l.reg1)
	l.must(complete(), fresh)
	l.must(l.transfer(id), fresh, l.o2, l.buyer, l.notary)
}

func TestEnvelopeRefusals(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	raw, err := entry.New(l.transfer(id), l.o1, l.o2, l.buyer, l.notary)
	if err != nil {
		t.Fatal(err)
	}
	check := func(r reply, status int, code string) {
		t.Helper()
		if r.Status != status || r.Code != code {
			t.Fatalf("got %d %q (%s), want %d %q", r.Status, r.Code, r.Body, status, code)
		}
	}
	check(l.post([]byte("not cose"), ""), http.StatusBadRequest, rules.CodeMalformed)
	bad := append([]byte(nil), raw...)
	bad[len(bad)-3] ^= 1
	check(l.post(bad, ""), http.StatusForbidden, rules.CodeBadSignature)
	check(l.post(make([]byte, 70000), ""), http.StatusRequestEntityTooLarge, rules.CodeTooLarge)

	resp, err := http.Post(l.srv.URL+"/logs/land/entries", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("wrong content type: %d", resp.StatusCode)
	}
	other := l.transfer(id)
	other.Log = "tabularium.local/diplomas"
	l.refused(http.StatusBadRequest, rules.CodeWrongLog, other, l.o1)
	l.refused(http.StatusBadRequest, rules.CodeTypeNotAllowed, l.payload(entry.TypeDiplomaRevoke, hashedID("diploma", "x"), &entry.NoFields{}), l.o1)
	l.refused(http.StatusBadRequest, rules.CodeWrongObject, l.payload(entry.TypeLandTransfer, "batch/x", &entry.TransferFields{Buyers: []entry.Share{share(l.buyer, "1")}}), l.o1)
	future := l.transfer(id)
	future.Time += 3600
	l.refused(http.StatusBadRequest, rules.CodeTimeInFuture, future, l.o1)

	l.faults.pushback.Store(true)
	r := l.post(raw, "")
	check(r, http.StatusServiceUnavailable, "pushback")
	l.faults.pushback.Store(false)

	r = l.post(raw, "?wait=published")
	check(r, http.StatusOK, "")
	var body SubmitResponse
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Checkpoint == "" || body.LeafHash == "" {
		t.Fatalf("wait=published answer %s (%v)", r.Body, err)
	}
}

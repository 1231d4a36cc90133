package rules

import (
	"reflect"
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
)

func TestRequiredRoles(t *testing.T) {
	bank := entry.PublicKey("ed25519:AAAA")
	for _, tc := range []struct {
		p    *entry.Payload
		want []Need
	}{
		{&entry.Payload{Type: entry.TypeRoleGrant, Fields: &entry.RoleFields{Role: RoleUniversity}}, []Need{{Roles: []string{RoleEduMinistry}}}},
		{&entry.Payload{Type: entry.TypeRoleRevoke, Fields: &entry.RoleFields{Role: RoleCourt}}, []Need{{Roles: []string{Root}}}},
		{&entry.Payload{Type: entry.TypeRoleGrant, Fields: &entry.RoleFields{Role: "pope"}}, nil},
		{&entry.Payload{Type: entry.TypeLandTransfer, Fields: &entry.TransferFields{}}, []Need{{Roles: []string{RoleNotary, RoleRegistrar}}}},
		{&entry.Payload{Type: entry.TypeLandPledge, Fields: &entry.PledgeFields{Pledgee: bank}}, []Need{{Roles: []string{RoleBank}, Key: bank}, {Roles: []string{RoleRegistrar}}}},
		{&entry.Payload{Type: entry.TypeLandCorrect, Fields: &entry.OwnersFields{}}, []Need{{Roles: []string{RoleRegistrar}, Signers: 2}}},
		{&entry.Payload{Type: entry.TypeKeyRecover, Fields: &entry.KeyFields{}}, []Need{{Roles: []string{RoleRegistrar}}, {Roles: []string{RoleCourt}}}},
		{&entry.Payload{Type: entry.TypeDiplomaRevoke, Fields: &entry.NoFields{}}, []Need{{Roles: []string{RoleEduMinistry}, Unless: "signed by the diploma's issuer"}}},
		{&entry.Payload{Type: entry.TypeLandRelease, Fields: &entry.ReleaseFields{}}, nil},
		{&entry.Payload{Type: entry.TypeKeyRotate, Fields: &entry.KeyFields{}}, nil},
		{&entry.Payload{Type: "no.such-type"}, nil},
	} {
		if got := RequiredRoles(tc.p); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.p.Type, got, tc.want)
		}
	}
	// Every type whose rule checks a role declares it.
	for typ, h := range handlers {
		switch typ {
		case entry.TypeLandRelease, entry.TypeKeyRotate, entry.TypeKeyRecoverCancel, entry.TypeKeyRecoverComplete:
			continue
		}
		if h.needs == nil {
			t.Errorf("%s declares no roles", typ)
		}
	}
}

package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
)

// corruptLast flips a bit of the last signature of raw: whoever verifies
// every signature refuses it with entry.ErrBadSignature.
func corruptLast(raw []byte) []byte {
	out := append([]byte(nil), raw...)
	out[len(out)-3] ^= 1
	return out
}

func keys(tb testing.TB, n int) []*entry.PrivateKey {
	out := make([]*entry.PrivateKey, n)
	for i := range out {
		out[i] = key(tb)
	}
	return out
}

// TestNoSignatureIsVerifiedForAnEntryNoSignerCouldMake: throwaway signers,
// a rotation of a key with no standing, and an entry over the signature cap
// are refused for what they are, not for a bad signature — so none was
// verified — and nothing is appended; an authorised signer's bad signature is
// still found.
func TestNoSignatureIsVerifiedForAnEntryNoSignerCouldMake(t *testing.T) {
	origin := "tabularium.local/land"
	lg := openPOSIX(t, origin, engine.Options{NoAntispam: true})
	f := newFixture(t, origin, lg)
	registrar := key(t)
	ctx := context.Background()
	if _, err := f.reg.Submit(ctx, f.grantTo(rules.RoleRegistrar, registrar.Public), false); err != nil {
		t.Fatal(err)
	}
	register := func() *entry.Payload {
		return &entry.Payload{Log: origin, Type: entry.TypeLandRegister, Object: "land/p-" + string(rune('a'+f.tick()%26)), Time: f.tick(),
			Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: key(t).Public, Share: "1"}}}, Docs: []entry.Commitment{entry.CommitWithSalt("deed", nil, nil)}}
	}
	a, b := key(t), key(t)
	rotate := &entry.Payload{Log: origin, Type: entry.TypeKeyRotate, Object: "key/" + string(a.Public), Time: f.tick(), Fields: &entry.KeyFields{New: b.Public}}
	for _, c := range []struct {
		name string
		raw  []byte
		code string
	}{
		{"16 throwaway signers", corruptLast(f.sign(register(), keys(t, registry.DefaultMaxSignatures)...)), rules.CodeRoleNotHeld},
		{"a rotation between fresh keys", corruptLast(f.sign(rotate, a, b)), rules.CodeNoStanding},
		{"17 signers, one a registrar", corruptLast(f.sign(register(), append(keys(t, registry.DefaultMaxSignatures), registrar)...)), rules.CodeTooManySignatures},
		{"a registrar's bad signature", corruptLast(f.sign(register(), registrar)), rules.CodeBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, _ := f.store.Meta()
			_, err := f.reg.Submit(ctx, c.raw, false)
			var re *rules.Error
			if !errors.As(err, &re) || re.Code != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
			if after, _ := f.store.Meta(); after != before {
				t.Fatalf("the refusal moved the state from %+v to %+v", before, after)
			}
		})
	}
}

// TestMaxSignaturesIsAnOption: a registry with a lower cap refuses what the
// default accepts.
func TestMaxSignaturesIsAnOption(t *testing.T) {
	origin := "tabularium.local/land"
	lg := openPOSIX(t, origin, engine.Options{NoAntispam: true})
	f := newFixture(t, origin, lg)
	reg, err := registry.Open(context.Background(), f.cfg, lg, f.store, registry.Options{MaxSignatures: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw := f.sign(&entry.Payload{Log: origin, Type: entry.TypeRoleGrant, Object: "role/notary/" + string(f.root.Public), Time: f.tick(),
		Fields: &entry.RoleFields{Role: rules.RoleNotary, Holder: f.root.Public}}, f.root, key(t))
	var re *rules.Error
	if _, err := reg.Submit(context.Background(), raw, false); !errors.As(err, &re) || re.Code != rules.CodeTooManySignatures {
		t.Fatalf("two signatures with a cap of one: %v", err)
	}
}

package registry

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/log/engine/enginetest"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// TestPrecheckRefusalIsConfirmedAtTheSerialisationPoint: a refusal found
// against the state index stands only if nothing it read changed before the
// entry is judged. A role granted in between turns it into an acceptance,
// with the signatures verified then.
func TestPrecheckRefusalIsConfirmedAtTheSerialisationPoint(t *testing.T) {
	origin := "tabularium.local/land"
	lg := enginetest.OpenPOSIX(t, origin, engine.Options{NoAntispam: true})
	mk := func() *entry.PrivateKey {
		k, err := entry.GenerateKey(entry.KeyEd25519)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	root := mk()
	cfg := rules.Config{Log: origin, Kind: rules.KindLand, Roots: []entry.PublicKey{root.Public}}
	store, err := state.Open(filepath.Join(t.TempDir(), "state.db"), origin)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r, err := Open(context.Background(), cfg, lg, store, Options{Now: func() time.Time { return time.Unix(2e9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	now := int64(1_700_000_000)
	sign := func(p *entry.Payload, ks ...*entry.PrivateKey) *entry.Entry {
		now++
		p.Log, p.Time = origin, now
		raw, err := entry.New(p, ks...)
		if err != nil {
			t.Fatal(err)
		}
		e, err := entry.Decode(raw, 16)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	register := func(id string, k *entry.PrivateKey) *entry.Entry {
		return sign(&entry.Payload{Type: entry.TypeLandRegister, Object: id, Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: k.Public, Share: "1"}}}}, k)
	}
	grant := func(k *entry.PrivateKey) {
		t.Helper()
		g := sign(&entry.Payload{Type: entry.TypeRoleGrant, Object: "role/registrar/" + string(k.Public), Fields: &entry.RoleFields{Role: rules.RoleRegistrar, Holder: k.Public}}, root)
		if _, err := r.Submit(context.Background(), g.Raw, false); err != nil {
			t.Fatal(err)
		}
	}
	judge := func(e *entry.Entry, pre *refusal) error {
		t.Helper()
		it, err := r.enqueue(context.Background(), e, pre)
		if err != nil {
			return err
		}
		<-it.done
		return it.err
	}
	code := func(err error) string {
		var re *rules.Error
		if errors.As(err, &re) {
			return re.Code
		}
		return ""
	}

	// Nothing changed: the refusal stands.
	stranger := mk()
	e := register("land/a", stranger)
	pre := r.precheck(e)
	if pre == nil || pre.err.Code != rules.CodeRoleNotHeld {
		t.Fatalf("precheck: %+v", pre)
	}
	if err := judge(e, pre); code(err) != rules.CodeRoleNotHeld {
		t.Fatalf("unchanged state: %v", err)
	}

	// The role is granted between the precheck and the judgement.
	k := mk()
	e = register("land/b", k)
	pre = r.precheck(e)
	if pre == nil {
		t.Fatal("no refusal before the grant")
	}
	grant(k)
	if err := judge(e, pre); err != nil {
		t.Fatalf("after the grant: %v", err)
	}

	// Likewise, but a signature is bad: it is verified there.
	k2 := mk()
	e = register("land/c", k2)
	bad := append([]byte(nil), e.Raw...)
	bad[len(bad)-3] ^= 1
	if e, err = entry.Decode(bad, 16); err != nil {
		t.Fatal(err)
	}
	pre = r.precheck(e)
	grant(k2)
	if err := judge(e, pre); code(err) != rules.CodeBadSignature {
		t.Fatalf("bad signature after the grant: %v", err)
	}
}

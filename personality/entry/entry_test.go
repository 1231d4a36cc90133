package entry

import (
	"bytes"
	"errors"
	"testing"
)

func testPayload(t testing.TB) *Payload {
	t.Helper()
	owner, err := GenerateKey(KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	return &Payload{
		Log: "tabularium.local/land", Type: TypeLandRegister, Object: "land/parcel-1", Time: 1700000000,
		Fields: &OwnersFields{Owners: []Share{{Key: owner.Public, Share: "1"}}},
		Docs:   []Commitment{CommitWithSalt("deed", []byte("salt"), []byte("deed text"))},
	}
}

func TestSignAndParseBothKeyTypes(t *testing.T) {
	ed, _ := GenerateKey(KeyEd25519)
	p256, _ := GenerateKey(KeyP256)
	raw, err := New(testPayload(t), ed, p256)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Signers) != 2 || e.Signers[0] != ed.Public || e.Signers[1] != p256.Public {
		t.Fatalf("signers = %v", e.Signers)
	}
	if e.Hash != Hash(raw) {
		t.Fatal("hash mismatch")
	}
	f := e.Payload.Fields.(*OwnersFields)
	if f.Owners[0].Share != "1" {
		t.Fatalf("fields = %+v", f)
	}
}

func TestKeyPEMRoundTrip(t *testing.T) {
	for _, typ := range []string{KeyEd25519, KeyP256} {
		k, _ := GenerateKey(typ)
		pem, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePrivateKeyPEM(pem)
		if err != nil || k2.Public != k.Public {
			t.Fatalf("%s: %v %v", typ, err, k2)
		}
		if !k.Public.Valid() {
			t.Fatalf("%s: public key %q not valid", typ, k.Public)
		}
	}
}

func TestTamperedPayloadIsBadSignature(t *testing.T) {
	k, _ := GenerateKey(KeyEd25519)
	raw, _ := New(testPayload(t), k)
	i := bytes.Index(raw, []byte("parcel-1"))
	raw[i] = 'P'
	if _, err := Parse(raw); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("err = %v, want bad signature", err)
	}
	// ParseUnverified does not check the signature, and says who claims it.
	e, err := ParseUnverified(raw)
	if err != nil || len(e.Signers) != 1 || e.Signers[0] != k.Public || e.Payload.Object != "land/Parcel-1" {
		t.Fatalf("ParseUnverified: %v %+v", err, e)
	}
	// It is as strict as Parse about everything else.
	if _, err := ParseUnverified(append(bytes.Clone(raw), 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v, want malformed", err)
	}
}

func TestSignTwiceRefused(t *testing.T) {
	k, _ := GenerateKey(KeyEd25519)
	raw, _ := New(testPayload(t), k)
	if _, err := Sign(raw, k); err == nil {
		t.Fatal("second signature by the same key accepted")
	}
}

func TestNonCanonicalPayloadRefused(t *testing.T) {
	b, err := EncodePayload(testPayload(t))
	if err != nil {
		t.Fatal(err)
	}
	// Re-encode the time (a 4-byte uint) as an 8-byte uint: same value, longer form.
	i := bytes.Index(b, []byte{0x1a, 0x65, 0x53, 0xf1, 0x00})
	if i < 0 {
		t.Fatal("time not found")
	}
	long := append(append(append([]byte{}, b[:i]...), 0x1b, 0, 0, 0, 0), b[i+1:]...)
	if _, err := DecodePayload(long); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want malformed", err)
	}
}

func TestShapeRefusals(t *testing.T) {
	for name, mutate := range map[string]func(p *Payload){
		"unknown type":   func(p *Payload) { p.Type = "land.steal"; p.Fields = &NoFields{} },
		"bad object":     func(p *Payload) { p.Object = "Land parcel" },
		"short prev":     func(p *Payload) { p.Prev = []byte{1, 2} },
		"zero time":      func(p *Payload) { p.Time = 0 },
		"bad share":      func(p *Payload) { p.Fields.(*OwnersFields).Owners[0].Share = "2/4" },
		"bad owner key":  func(p *Payload) { p.Fields.(*OwnersFields).Owners[0].Key = "ed25519:abc" },
		"bad doc kind":   func(p *Payload) { p.Docs[0].Kind = "Name: J. Doe" },
		"short doc hash": func(p *Payload) { p.Docs[0].Hash = []byte{1} },
	} {
		t.Run(name, func(t *testing.T) {
			p := testPayload(t)
			mutate(p)
			if _, err := EncodePayload(p); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want malformed", err)
			}
		})
	}
}

func TestParseShare(t *testing.T) {
	for s, ok := range map[string]bool{"1": true, "1/2": true, "2/3": true, "2/4": false, "0": false, "3/2": false, "0.5": false, "-1/2": false, "1/1": false} {
		if _, err := ParseShare(s); (err == nil) != ok {
			t.Errorf("ParseShare(%q) err = %v, want ok=%v", s, err, ok)
		}
	}
}

// TestNewEqualsSigningInTurn: New, which signs without re-verifying, makes
// the same bytes as Sign applied key by key (Ed25519 is deterministic), and
// refuses a key given twice.
func TestNewEqualsSigningInTurn(t *testing.T) {
	k1, _ := GenerateKey(KeyEd25519)
	k2, _ := GenerateKey(KeyEd25519)
	k3, _ := GenerateKey(KeyEd25519)
	p := testPayload(t)
	got, err := New(p, k1, k2, k3)
	if err != nil {
		t.Fatal(err)
	}
	want, err := EncodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*PrivateKey{k1, k2, k3} {
		if want, err = Sign(want, k); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("New and Sign in turn differ")
	}
	if e, err := Parse(got); err != nil || len(e.Signers) != 3 {
		t.Fatalf("Parse: %v", err)
	}
	if _, err := New(testPayload(t), k1, k2, k1); err == nil {
		t.Fatal("a key given twice was accepted")
	}
}

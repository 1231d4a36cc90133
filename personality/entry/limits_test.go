package entry

import (
	"errors"
	"testing"
)

// manySigners signs testPayload with n fresh keys.
func manySigners(t *testing.T, n int) []byte {
	t.Helper()
	keys := make([]*PrivateKey, n)
	for i := range keys {
		k, err := GenerateKey(KeyEd25519)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	raw, err := New(testPayload(t), keys...)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeRefusesTooManySignaturesBeforeVerifying(t *testing.T) {
	raw := manySigners(t, 20)
	// Break the last signature: a decoder that verified anything first would
	// answer ErrBadSignature.
	raw[len(raw)-3] ^= 1
	if _, err := Decode(raw, 16); !errors.Is(err, ErrTooManySignatures) {
		t.Fatalf("Decode with a cap of 16: %v, want ErrTooManySignatures", err)
	}
	e, err := Decode(raw, 20)
	if err != nil {
		t.Fatalf("Decode with a cap of 20: %v", err)
	}
	if len(e.Signers) != 20 {
		t.Fatalf("%d signers", len(e.Signers))
	}
	if err := e.Verify(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify: %v, want ErrBadSignature", err)
	}
	if _, err := Parse(raw); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Parse: %v, want ErrBadSignature", err)
	}
}

func TestDecodeThenVerify(t *testing.T) {
	raw := manySigners(t, 3)
	e, err := Decode(raw, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Verify(); err != nil {
		t.Fatal(err)
	}
	if err := e.Verify(); err != nil {
		t.Fatalf("second Verify: %v", err)
	}
	p, err := Parse(raw)
	if err != nil || p.Verify() != nil {
		t.Fatalf("Parse then Verify: %v", err)
	}
}

func TestCourtOrderFieldsAreCanonical(t *testing.T) {
	enc := func(t *testing.T, fields any) []byte {
		t.Helper()
		p := testPayload(t)
		p.Type, p.Fields = TypeLandCourtOrder, fields
		b, err := encMode.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name   string
		fields any
		ok     bool
	}{
		{"restore only, as before", map[string]any{"restore": 3}, true},
		{"kept and voided", map[string]any{"restore": 3, "keep": []uint64{4, 9}, "void": []uint64{5}}, true},
		{"unsorted", map[string]any{"restore": 3, "keep": []uint64{9, 4}}, false},
		{"repeated", map[string]any{"restore": 3, "void": []uint64{5, 5}}, false},
		{"kept and voided at once", map[string]any{"restore": 3, "keep": []uint64{5}, "void": []uint64{5}}, false},
		{"an empty list spelled out", map[string]any{"restore": 3, "keep": []uint64{}}, false},
		{"unknown field", map[string]any{"restore": 3, "lift": []uint64{1}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := enc(t, c.fields)
			p, err := DecodePayload(b)
			if c.ok != (err == nil) {
				t.Fatalf("DecodePayload: %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified: %v", err)
			}
			if err == nil {
				re, err := EncodePayload(p)
				if err != nil || string(re) != string(b) {
					t.Fatalf("re-encoding differs: %v", err)
				}
			}
		})
	}
}

func TestCountSignaturesFromFraming(t *testing.T) {
	for _, n := range []int{1, 23, 24, 300} {
		raw := manySigners(t, n)
		if got, ok := countSignatures(raw); !ok || got != uint64(n) {
			t.Fatalf("%d signers: framing says %d, %v", n, got, ok)
		}
	}
	for _, b := range [][]byte{nil, {0xd8, 0x62}, {0xd8, 0x62, 0x84, 0x5f}, {0xd8, 0x62, 0x84, 0x41}, {0xd8, 0x62, 0x84, 0x40, 0xa1}, {0xd8, 0x62, 0x84, 0x40, 0xa0, 0xf6, 0x80}} {
		if _, ok := countSignatures(b); ok {
			t.Fatalf("framing of %x accepted", b)
		}
	}
}

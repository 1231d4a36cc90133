package entry

import (
	"errors"
	"slices"
	"testing"
)

func FuzzParseEntry(f *testing.F) {
	k, _ := GenerateKey(KeyEd25519)
	p256, _ := GenerateKey(KeyP256)
	raw, err := New(testPayload(f), k, p256)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Add([]byte{0xd8, 0x62, 0x84, 0x40, 0xa0, 0xf6, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		u, uerr := ParseUnverified(b)
		// The framing count agrees with the decoder on every message the
		// decoder accepts.
		if u != nil {
			if n, ok := countSignatures(b); !ok || n != uint64(len(u.Signers)) {
				t.Fatalf("framing says %d signatures (ok %v), the decoder %d", n, ok, len(u.Signers))
			}
		}
		// Decode then Verify is Parse in two halves.
		if d, derr := Decode(b, 0); (derr == nil) != (uerr == nil) {
			t.Fatalf("Decode: %v; ParseUnverified: %v", derr, uerr)
		} else if derr == nil {
			if verr := d.Verify(); (verr == nil) != (err == nil) {
				t.Fatalf("Decode+Verify: %v; Parse: %v", verr, err)
			}
			if d2, cerr := Decode(b, 1); len(d.Signers) > 1 && !errors.Is(cerr, ErrTooManySignatures) || len(d.Signers) <= 1 && (cerr != nil || len(d2.Signers) != len(d.Signers)) {
				t.Fatalf("Decode with a cap of 1 on %d signers: %v", len(d.Signers), cerr)
			}
		}
		// ParseUnverified refuses nothing Parse accepts, and everything Parse
		// refuses for a reason other than a signature that does not verify.
		if (uerr != nil && err == nil) || (err != nil && !errors.Is(err, ErrBadSignature) && uerr == nil) {
			t.Fatalf("Parse: %v; ParseUnverified: %v", err, uerr)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !slices.Equal(e.Signers, u.Signers) || e.Hash != u.Hash {
			t.Fatalf("Parse and ParseUnverified disagree: %v / %v", e.Signers, u.Signers)
		}
		if len(e.Signers) == 0 {
			t.Fatal("parsed an entry without signers")
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	b, err := EncodePayload(testPayload(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0xa0})
	f.Add([]byte{0xbf, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePayload(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		re, err := EncodePayload(p)
		if err != nil || string(re) != string(b) {
			t.Fatalf("accepted payload does not re-encode to itself: %v", err)
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	k, _ := GenerateKey(KeyP256)
	f.Add(string(k.Public))
	f.Add("ed25519:AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParsePublicKey(s)
		if err != nil {
			return
		}
		back, err := PublicKeyOf(pub)
		if err != nil || string(back) != s {
			t.Fatalf("%q parsed but re-encodes as %q (%v)", s, back, err)
		}
	})
}

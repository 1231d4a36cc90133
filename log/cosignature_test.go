package log

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

var testBody = []byte("example.com/log\n15\n" + testHash + "\n")

func newTestCosigner(t *testing.T, name string, now func() time.Time) (*Cosigner, string) {
	t.Helper()
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCosigner(skey, now)
	if err != nil {
		t.Fatal(err)
	}
	return c, vkey
}

func fixedClock(ts time.Time) func() time.Time { return func() time.Time { return ts } }

func TestCosignatureInteropWithFormats(t *testing.T) {
	ts := time.Date(2025, 2, 5, 0, 3, 49, 0, time.UTC)
	c, vkey := newTestCosigner(t, "witness.example.com/w1", fixedClock(ts))

	cvkey, err := CosignatureVKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	theirKey, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if cvkey != theirKey {
		t.Errorf("CosignatureVKey = %s, formats converts to %s", cvkey, theirKey)
	}
	ours, err := NewVerifier(cvkey)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyHash() != theirs.KeyHash() || ours.KeyHash() != theirs.KeyHash() {
		t.Errorf("key hashes: cosigner %08x, ours %08x, formats %08x", c.KeyHash(), ours.KeyHash(), theirs.KeyHash())
	}
	if c.Name() != theirs.Name() || ours.Name() != theirs.Name() {
		t.Errorf("names: cosigner %q, ours %q, formats %q", c.Name(), ours.Name(), theirs.Name())
	}

	signed, err := note.Sign(&note.Note{Text: string(testBody)}, c)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]note.Verifier{"ours": ours, "formats": theirs} {
		n, err := note.Open(signed, note.VerifierList(v))
		if err != nil {
			t.Fatalf("%s verifier: %v", name, err)
		}
		got, err := CosignatureTime(n.Sigs[0])
		if err != nil || !got.Equal(ts) {
			t.Errorf("%s: CosignatureTime = %v, %v; want %v", name, got, err, ts)
		}
		if fts, err := fnote.CoSigV1Timestamp(n.Sigs[0]); err != nil || !fts.Equal(ts) {
			t.Errorf("%s: formats CoSigV1Timestamp = %v, %v; want %v", name, fts, err, ts)
		}
	}

	// And the other way round: formats signs, we verify.
	skey, vkey2, err := GenerateKey("witness.example.com/w2")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err = note.Sign(&note.Note{Text: string(testBody)}, fs)
	if err != nil {
		t.Fatal(err)
	}
	cvkey2, err := CosignatureVKey(vkey2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(signed, note.VerifierList(mustVerifier(t, cvkey2))); err != nil {
		t.Errorf("formats cosignature refused by our verifier: %v", err)
	}
}

func TestCosignatureTimestamps(t *testing.T) {
	t.Run("now", func(t *testing.T) {
		c, vkey := newTestCosigner(t, "w", nil)
		before := time.Now().Truncate(time.Second)
		signed, err := note.Sign(&note.Note{Text: string(testBody)}, c)
		if err != nil {
			t.Fatal(err)
		}
		cvkey, _ := CosignatureVKey(vkey)
		n, err := note.Open(signed, note.VerifierList(mustVerifier(t, cvkey)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := CosignatureTime(n.Sigs[0])
		if err != nil || got.Before(before) || got.After(time.Now()) {
			t.Errorf("CosignatureTime = %v, %v; want about now", got, err)
		}
	})
	t.Run("zero is refused by the signer", func(t *testing.T) {
		for _, ts := range []time.Time{time.Unix(0, 0), time.Unix(-1, 0), {}} {
			c, _ := newTestCosigner(t, "w", fixedClock(ts))
			if sig, err := c.Sign(testBody); !errors.Is(err, ErrBadCosignature) {
				t.Errorf("Sign at %v = %x, %v; want ErrBadCosignature", ts, sig, err)
			}
		}
	})
	t.Run("zero is refused by the verifier", func(t *testing.T) {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := newCosignatureVerifier("w", pub)
		if err != nil {
			t.Fatal(err)
		}
		sig := binary.BigEndian.AppendUint64(nil, 0)
		sig = append(sig, ed25519.Sign(priv, cosignedMessage(0, testBody))...)
		if v.Verify(testBody, sig) {
			t.Error("cosignature with timestamp 0 verified")
		}
		sig = binary.BigEndian.AppendUint64(nil, 1)
		sig = append(sig, ed25519.Sign(priv, cosignedMessage(1, testBody))...)
		if !v.Verify(testBody, sig) {
			t.Error("cosignature with timestamp 1 refused")
		}
	})
	t.Run("CosignatureTime refuses other signatures", func(t *testing.T) {
		for _, raw := range [][]byte{
			make([]byte, 4+ed25519.SignatureSize),                       // a plain Ed25519 note signature
			make([]byte, 4+8+ed25519.SignatureSize),                     // timestamp zero
			append(bytes.Repeat([]byte{0xff}, 12), make([]byte, 64)...), // far future
		} {
			s := note.Signature{Name: "w", Base64: base64.StdEncoding.EncodeToString(raw)}
			if ts, err := CosignatureTime(s); !errors.Is(err, ErrBadCosignature) {
				t.Errorf("CosignatureTime(%d bytes) = %v, %v; want ErrBadCosignature", len(raw), ts, err)
			}
		}
		if _, err := CosignatureTime(note.Signature{Name: "w", Base64: "!!"}); !errors.Is(err, ErrBadCosignature) {
			t.Errorf("bad base64: %v, want ErrBadCosignature", err)
		}
	})
}

func TestCosignatureWrongBodyRefused(t *testing.T) {
	c, vkey := newTestCosigner(t, "w", fixedClock(time.Unix(1738713829, 0)))
	sig, err := c.Sign(testBody)
	if err != nil {
		t.Fatal(err)
	}
	cvkey, _ := CosignatureVKey(vkey)
	for name, mk := range map[string]func(string) (note.Verifier, error){
		"ours":    NewVerifier,
		"formats": func(string) (note.Verifier, error) { return fnote.NewVerifierForCosignatureV1(vkey) },
	} {
		v, err := mk(cvkey)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Verify(testBody, sig) {
			t.Errorf("%s: cosignature over the body refused", name)
		}
		other := bytes.Replace(testBody, []byte("\n15\n"), []byte("\n16\n"), 1)
		if v.Verify(other, sig) {
			t.Errorf("%s: cosignature verified over a different body", name)
		}
		late := bytes.Clone(sig)
		late[7]++
		if v.Verify(testBody, late) {
			t.Errorf("%s: cosignature verified with a different timestamp", name)
		}
		if v.Verify(testBody, sig[:len(sig)-1]) {
			t.Errorf("%s: truncated cosignature verified", name)
		}
	}
	// A plain Ed25519 verifier for the same key does not accept a cosignature.
	if mustVerifier(t, vkey).Verify(testBody, sig) {
		t.Error("cosignature verified as a plain Ed25519 signature")
	}
}

func TestCosignatureVKey(t *testing.T) {
	_, vkey, err := GenerateKey("w")
	if err != nil {
		t.Fatal(err)
	}
	cvkey, err := CosignatureVKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := CosignatureVKey(cvkey); err != nil || again != cvkey {
		t.Errorf("CosignatureVKey of a cosignature key = %q, %v; want it unchanged", again, err)
	}
	for _, bad := range []string{pixelVKey, "", "w+00000000+", vkey + "x", breezeVKey[:len(breezeVKey)-4]} {
		if k, err := CosignatureVKey(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("CosignatureVKey(%q) = %q, %v; want ErrBadKey", bad, k, err)
		}
	}
}

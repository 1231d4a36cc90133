package log

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// signerKey encodes an Ed25519 seed as a signed-note signer key.
func signerKey(name string, seed []byte) string {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	hash := keyHash(name, append([]byte{KeyTypeEd25519}, pub...))
	return fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, hash, base64.StdEncoding.EncodeToString(append([]byte{KeyTypeEd25519}, seed...)))
}

// plusKey returns a signer key whose base64 contains '+', found deterministically.
func plusKey(t *testing.T, name string) string {
	t.Helper()
	for i := range 256 {
		seed := bytes.Repeat([]byte{byte(i)}, ed25519.SeedSize)
		if k := signerKey(name, seed); strings.Count(k, "+") > 4 {
			return k
		}
	}
	t.Fatal("no seed gives a key with '+' in its base64")
	return ""
}

func TestKeyRoundTrip(t *testing.T) {
	skey, vkey, err := GenerateKey("example.com/log")
	if err != nil {
		t.Fatal(err)
	}
	testKeyRoundTrip(t, skey, vkey)
}

// TestKeyWithPlusInBase64 covers keys whose base64 holds '+', which must not be
// mistaken for a field separator (about half of all generated keys).
func TestKeyWithPlusInBase64(t *testing.T) {
	skey := plusKey(t, "example.com/log")
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := VerifierKey(skey)
	if err != nil {
		t.Fatalf("VerifierKey: %v", err)
	}
	v := mustVerifier(t, vkey)
	if v.KeyHash() != s.KeyHash() {
		t.Errorf("VerifierKey hash %08x, signer hash %08x", v.KeyHash(), s.KeyHash())
	}
	testKeyRoundTrip(t, skey, vkey)
	c, err := NewCosigner(skey, fixedClock(time.Unix(1738713829, 0)))
	if err != nil {
		t.Fatalf("NewCosigner: %v", err)
	}
	cvkey, err := CosignatureVKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: string(testBody)}, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(signed, note.VerifierList(mustVerifier(t, cvkey))); err != nil {
		t.Errorf("cosignature from a key with '+' in its base64: %v", err)
	}
}

func testKeyRoundTrip(t *testing.T, skey, vkey string) {
	t.Helper()
	got, err := VerifierKey(skey)
	if err != nil || got != vkey {
		t.Errorf("VerifierKey = %q, %v; want %q", got, err, vkey)
	}
	if got, err := VerifierKey(skey + "\n"); err != nil || got != vkey {
		t.Errorf("VerifierKey with a trailing newline = %q, %v; want %q", got, err, vkey)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		t.Errorf("signer %s/%08x, verifier %s/%08x", s.Name(), s.KeyHash(), v.Name(), v.KeyHash())
	}
	signed, err := note.Sign(&note.Note{Text: string(testBody)}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		t.Errorf("note signed by NewSigner refused by NewVerifier: %v", err)
	}
}

func TestGenerateKeyRefusesBadNames(t *testing.T) {
	for _, name := range []string{"", "a b", "a+b", "a\nb"} {
		if _, _, err := GenerateKey(name); !errors.Is(err, ErrBadKey) {
			t.Errorf("GenerateKey(%q): %v, want ErrBadKey", name, err)
		}
	}
}

func TestSignerKeysRefused(t *testing.T) {
	zero := signerKey("example.com/log", make([]byte, ed25519.SeedSize))
	for _, skey := range []string{zero, plusKey(t, "example.com/log")} {
		t.Run(skey, func(t *testing.T) { testSignerKeysRefused(t, skey) })
	}
}

func testSignerKeysRefused(t *testing.T, skey string) {
	vkey, err := VerifierKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(skey, "+", 5)
	wrongHash := strings.Join([]string{parts[0], parts[1], parts[2], flipHex(parts[3]), parts[4]}, "+")
	renamed := strings.Join([]string{parts[0], parts[1], "example.com/other", parts[3], parts[4]}, "+")
	tests := map[string]string{
		"verifier key":   vkey,
		"empty":          "",
		"wrong hash":     wrongHash,
		"renamed":        renamed,
		"bad base64":     skey[:len(skey)-2] + "!!",
		"short hash":     strings.Join([]string{parts[0], parts[1], parts[2], parts[3][1:], parts[4]}, "+"),
		"not private":    strings.Replace(skey, "PRIVATE", "PUBLIC", 1),
		"ECDSA type":     strings.Join([]string{parts[0], parts[1], parts[2], parts[3], "Ag" + parts[4][2:]}, "+"),
		"bad name":       strings.Join([]string{parts[0], parts[1], "a b", parts[3], parts[4]}, "+"),
		"truncated seed": strings.Join([]string{parts[0], parts[1], parts[2], parts[3], base64.StdEncoding.EncodeToString(make([]byte, 20))}, "+"),
	}
	for name, bad := range tests {
		t.Run(name, func(t *testing.T) {
			if got, err := VerifierKey(bad); !errors.Is(err, ErrBadKey) {
				t.Errorf("VerifierKey = %q, %v; want ErrBadKey", got, err)
			}
			if _, err := NewSigner(bad); !errors.Is(err, ErrBadKey) {
				t.Errorf("NewSigner: %v, want ErrBadKey", err)
			}
			if _, err := NewCosigner(bad, nil); !errors.Is(err, ErrBadKey) {
				t.Errorf("NewCosigner: %v, want ErrBadKey", err)
			}
		})
	}
}

// flipHex changes the first digit of a hex key hash.
func flipHex(h string) string {
	if h[0] == '0' {
		return "1" + h[1:]
	}
	return "0" + h[1:]
}

func TestNewVerifierRefuses(t *testing.T) {
	_, vkey, err := GenerateKey("example.com/log")
	if err != nil {
		t.Fatal(err)
	}
	name, rest, _ := strings.Cut(vkey, "+")
	hash, key64, _ := strings.Cut(rest, "+")
	key, _ := base64.StdEncoding.DecodeString(key64)
	withType := func(typ byte, k []byte) string {
		raw := append([]byte{typ}, k...)
		return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, raw), base64.StdEncoding.EncodeToString(raw))
	}
	cvkey, _ := CosignatureVKey(vkey)
	tests := map[string]string{
		"empty":                           "",
		"no hash":                         name + "+" + key64,
		"mismatched hash":                 name + "+" + flipHex(hash) + "+" + key64,
		"cosignature hash on ed25519 key": name + "+" + strings.Split(cvkey, "+")[1] + "+" + key64,
		"renamed":                         "example.com/other+" + hash + "+" + key64,
		"short hash":                      name + "+" + hash[1:] + "+" + key64,
		"long hash":                       name + "+0" + hash + "+" + key64,
		"signed hash":                     name + "+-" + hash[1:] + "+" + key64,
		"non-hex hash":                    name + "+zzzzzzzz+" + key64,
		"bad base64":                      name + "+" + hash + "+" + key64 + "!",
		"unpadded base64":                 strings.TrimRight(pixelVKey, "="),
		"url-safe base64":                 strings.ReplaceAll(tesseraVKey, "+oO5", "-oO5"),
		"type only":                       withType(KeyTypeEd25519, nil),
		"unknown type 0x00":               withType(0x00, key[1:]),
		"unknown type 0x03":               withType(0x03, key[1:]),
		"unknown type 0x05":               withType(0x05, key[1:]),
		"unknown type 0xff":               withType(0xff, key[1:]),
		"short ed25519 key":               withType(KeyTypeEd25519, key[1:31]),
		"long ed25519 key":                withType(KeyTypeEd25519, append(key[1:], 0)),
		"short cosignature key":           withType(KeyTypeCosignatureV1, key[1:31]),
		"long cosignature key":            withType(KeyTypeCosignatureV1, append(key[1:], 0)),
		"ECDSA garbage":                   withType(KeyTypeECDSA, key[1:]),
		"ECDSA mismatched hash":           strings.Replace(pixelVKey, "+72c878db+", "+72c878dc+", 1),
		"empty name":                      "+" + hash + "+" + key64,
		"space in name":                   "a b+" + hash + "+" + key64,
		"tab in name":                     "a\tb+" + hash + "+" + key64,
		"control in name":                 "a\x01b+" + hash + "+" + key64,
	}
	for tname, bad := range tests {
		t.Run(tname, func(t *testing.T) {
			if v, err := NewVerifier(bad); !errors.Is(err, ErrBadKey) {
				t.Errorf("NewVerifier(%q) = %v, %v; want ErrBadKey", bad, v, err)
			}
		})
	}
	for _, good := range []string{vkey, cvkey, pixelVKey, breezeVKey, tesseraVKey, " " + vkey + "\n"} {
		if _, err := NewVerifier(good); err != nil {
			t.Errorf("NewVerifier(%q): %v", good, err)
		}
	}
}

func FuzzNewVerifier(f *testing.F) {
	for _, k := range []string{tesseraVKey, pixelVKey, breezeVKey, autumnVKey, "a+00000000+BA==", "a+b+c", ""} {
		f.Add(k)
	}
	if cvkey, err := CosignatureVKey(breezeVKey); err == nil {
		f.Add(cvkey)
	}
	f.Fuzz(func(t *testing.T, vkey string) {
		v, err := NewVerifier(vkey)
		if err != nil {
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("NewVerifier(%q): error %v does not wrap ErrBadKey", vkey, err)
			}
			return
		}
		name, rest, _ := strings.Cut(strings.TrimSpace(vkey), "+")
		hash, _, _ := strings.Cut(rest, "+")
		if v.Name() != name || fmt.Sprintf("%08x", v.KeyHash()) != strings.ToLower(hash) {
			t.Fatalf("NewVerifier(%q) gave %s+%08x", vkey, v.Name(), v.KeyHash())
		}
		v.Verify(testBody, make([]byte, 72))
		if c, err := CosignatureVKey(vkey); err == nil {
			if _, err := NewVerifier(c); err != nil {
				t.Fatalf("NewVerifier(CosignatureVKey(%q)): %v", vkey, err)
			}
		}
	})
}

package log

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// Signed-note key types (c2sp.org/signed-note).
const (
	KeyTypeEd25519       = 0x01 // signatures over checkpoints by the log itself
	KeyTypeECDSA         = 0x02 // ECDSA P-256 with SHA-256, used by some other logs
	KeyTypeCosignatureV1 = 0x04 // witness cosignatures, c2sp.org/tlog-cosignature
)

// ErrBadKey is returned for a signer or verifier key that cannot be parsed.
var ErrBadKey = errors.New("bad key")

// GenerateKey returns a new Ed25519 signer key and its verifier key, both in
// signed-note text form, for a log or witness called name.
func GenerateKey(name string) (skey, vkey string, err error) {
	// note.GenerateKey does not check the name, and a key with a bad name could
	// never be parsed back.
	if !validKeyName(name) {
		return "", "", fmt.Errorf("%w: invalid key name %q", ErrBadKey, name)
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return skey, vkey, nil
}

// NewSigner returns a note signer for an Ed25519 signer key.
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("%w: signer key: %v", ErrBadKey, err)
	}
	return s, nil
}

// VerifierKey returns the verifier key matching an Ed25519 signer key.
func VerifierKey(skey string) (string, error) {
	// The base64 key may itself contain '+', so split into at most five parts.
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", fmt.Errorf("%w: signer key is not PRIVATE+KEY+name+hash+key", ErrBadKey)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != KeyTypeEd25519 {
		return "", fmt.Errorf("%w: signer key is not an Ed25519 seed", ErrBadKey)
	}
	if !validKeyName(parts[2]) {
		return "", fmt.Errorf("%w: signer key has an invalid name", ErrBadKey)
	}
	hash, err := strconv.ParseUint(parts[3], 16, 32)
	if err != nil || len(parts[3]) != 8 {
		return "", fmt.Errorf("%w: signer key has a bad key hash", ErrBadKey)
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	// The key hash in a signer key is that of the public key; a mismatch means the
	// key text was altered or mixed up with another key's.
	if uint32(hash) != keyHash(parts[2], append([]byte{KeyTypeEd25519}, pub...)) {
		return "", fmt.Errorf("%w: signer key hash does not match the key", ErrBadKey)
	}
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return vkey, nil
}

// NewVerifier returns a note verifier for a verifier key of type Ed25519 (0x01),
// ECDSA (0x02) or cosignature/v1 (0x04). The key hash in the text must match the key.
func NewVerifier(vkey string) (note.Verifier, error) {
	vkey = strings.TrimSpace(vkey)
	name, typ, key, err := splitVKey(vkey)
	if err != nil {
		return nil, err
	}
	switch typ {
	case KeyTypeEd25519:
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		return v, nil
	case KeyTypeECDSA:
		v, err := fnote.NewECDSAVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		return v, nil
	case KeyTypeCosignatureV1:
		return newCosignatureVerifier(name, key)
	}
	return nil, fmt.Errorf("%w: key type 0x%02x is not supported", ErrBadKey, typ)
}

// splitVKey parses "name+hash+base64(type||key)" and checks the name and hash.
func splitVKey(vkey string) (name string, typ byte, key []byte, err error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validKeyName(name) || len(hash16) != 8 {
		return "", 0, nil, fmt.Errorf("%w: verifier key %q is not name+hash+key", ErrBadKey, vkey)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(key64)
	// The decoder skips CR and LF: accept only the canonical encoding.
	if err != nil || len(raw) < 2 || base64.StdEncoding.EncodeToString(raw) != key64 {
		return "", 0, nil, fmt.Errorf("%w: verifier key %q has bad base64", ErrBadKey, vkey)
	}
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil {
		return "", 0, nil, fmt.Errorf("%w: verifier key %q has a bad key hash", ErrBadKey, vkey)
	}
	if raw[0] != KeyTypeECDSA && uint32(hash) != keyHash(name, raw) {
		return "", 0, nil, fmt.Errorf("%w: verifier key %q: key hash does not match the key", ErrBadKey, vkey)
	}
	return name, raw[0], raw[1:], nil
}

// validKeyName reports whether name is a valid signed-note key name: non-empty
// printable ASCII without spaces or plus signs.
func validKeyName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r > '~' || r == '+' {
			return false
		}
	}
	return true
}

// KeyType returns the signed-note key type of a verifier key (KeyTypeEd25519,
// KeyTypeECDSA, KeyTypeCosignatureV1, …) after checking its form.
func KeyType(vkey string) (byte, error) {
	_, typ, _, err := splitVKey(strings.TrimSpace(vkey))
	return typ, err
}

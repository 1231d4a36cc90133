package entry

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/veraison/go-cose"
)

// PublicKey names a party in entries and state: "ed25519:" or "p256:" followed by
// the unpadded base64url encoding of the raw Ed25519 key or of the compressed SEC 1
// P-256 point. Every key has exactly one text form; ParsePublicKey refuses others.
type PublicKey string

// Key types.
const (
	KeyEd25519 = "ed25519"
	KeyP256    = "p256"
)

var b64 = base64.RawURLEncoding.Strict()

// ParsePublicKey checks that s is a canonical PublicKey and returns the key.
func ParsePublicKey(s string) (crypto.PublicKey, error) {
	typ, enc, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%w: key %q has no type prefix", ErrMalformed, s)
	}
	raw, err := b64.DecodeString(enc)
	// The decoder skips CR and LF: only the canonical encoding names a key.
	if err != nil || b64.EncodeToString(raw) != enc {
		return nil, fmt.Errorf("%w: key %q is not canonical base64url", ErrMalformed, s)
	}
	switch typ {
	case KeyEd25519:
		if len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 key %q has %d bytes", ErrMalformed, s, len(raw))
		}
		return ed25519.PublicKey(raw), nil
	case KeyP256:
		if len(raw) != 33 {
			return nil, fmt.Errorf("%w: P-256 key %q is not a compressed point", ErrMalformed, s)
		}
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), raw)
		if x == nil {
			return nil, fmt.Errorf("%w: P-256 key %q is not on the curve", ErrMalformed, s)
		}
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
	}
	return nil, fmt.Errorf("%w: key type %q is not ed25519 or p256", ErrMalformed, typ)
}

// Valid reports whether k is a canonical public key.
func (k PublicKey) Valid() bool {
	_, err := ParsePublicKey(string(k))
	return err == nil
}

// PublicKeyOf returns the text form of an Ed25519 or ECDSA P-256 public key.
func PublicKeyOf(pub crypto.PublicKey) (PublicKey, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return PublicKey(KeyEd25519 + ":" + b64.EncodeToString(p)), nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return "", errors.New("ECDSA key is not on P-256")
		}
		e, err := p.ECDH()
		if err != nil {
			return "", fmt.Errorf("ECDSA key: %w", err)
		}
		return PublicKey(KeyP256 + ":" + b64.EncodeToString(compress(e.Bytes()))), nil
	}
	return "", fmt.Errorf("key type %T is not Ed25519 or ECDSA P-256", pub)
}

// compress turns an uncompressed SEC 1 point (0x04 || X || Y) into its compressed
// form (0x02 or 0x03 by the parity of Y, then X).
func compress(raw []byte) []byte {
	out := make([]byte, 33)
	out[0] = 2 | raw[64]&1
	copy(out[1:], raw[1:33])
	return out
}

// algorithm returns the COSE algorithm a key of this type signs with.
func algorithm(pub crypto.PublicKey) cose.Algorithm {
	if _, ok := pub.(ed25519.PublicKey); ok {
		return cose.AlgorithmEdDSA
	}
	return cose.AlgorithmES256
}

// PrivateKey is a party's signing key.
type PrivateKey struct {
	signer crypto.Signer
	Public PublicKey
}

// GenerateKey returns a new key of type KeyEd25519 or KeyP256.
func GenerateKey(typ string) (*PrivateKey, error) {
	var s crypto.Signer
	var err error
	switch typ {
	case KeyEd25519:
		_, s, err = ed25519.GenerateKey(rand.Reader)
	case KeyP256:
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("key type %q is not %s or %s", typ, KeyEd25519, KeyP256)
	}
	if err != nil {
		return nil, err
	}
	return newPrivateKey(s)
}

func newPrivateKey(s crypto.Signer) (*PrivateKey, error) {
	pub, err := PublicKeyOf(s.Public())
	if err != nil {
		return nil, err
	}
	return &PrivateKey{signer: s, Public: pub}, nil
}

// MarshalPEM encodes the key as a PKCS #8 "PRIVATE KEY" PEM block.
func (k *PrivateKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.signer)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes a key written by MarshalPEM.
func ParsePrivateKeyPEM(b []byte) (*PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PRIVATE KEY PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key type %T cannot sign", k)
	}
	return newPrivateKey(s)
}

package log

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// ErrBadCosignature is returned for a cosignature that is not a well-formed
// cosignature/v1 signature.
var ErrBadCosignature = errors.New("bad cosignature")

// keyHash is the signed-note key ID: the first four bytes of
// SHA-256(name || "\n" || type || key), big-endian.
func keyHash(name string, typeAndKey []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(typeAndKey)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// cosignedMessage is the message a cosignature/v1 signature covers.
// SPEC(tlog-cosignature): "cosignature/v1\ntime <timestamp>\n" followed by the
// checkpoint body.
func cosignedMessage(t uint64, body []byte) []byte {
	return append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), body...)
}

// CosignatureVKey converts the verifier key of a witness, given with type 0x01 or
// 0x04, into its cosignature/v1 form (type 0x04), recomputing the key hash.
func CosignatureVKey(vkey string) (string, error) {
	name, typ, key, err := splitVKey(strings.TrimSpace(vkey))
	if err != nil {
		return "", err
	}
	if (typ != KeyTypeEd25519 && typ != KeyTypeCosignatureV1) || len(key) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%w: %q is not an Ed25519 key", ErrBadKey, vkey)
	}
	raw := append([]byte{KeyTypeCosignatureV1}, key...)
	return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, raw), base64.StdEncoding.EncodeToString(raw)), nil
}

// Cosigner produces timestamped cosignature/v1 signatures (c2sp.org/tlog-cosignature).
// It implements note.Signer.
type Cosigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
	now  func() time.Time
}

// NewCosigner returns a Cosigner for an Ed25519 signer key. now supplies the
// timestamp; nil means time.Now.
func NewCosigner(skey string, now func() time.Time) (*Cosigner, error) {
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	cvkey, err := CosignatureVKey(vkey)
	if err != nil {
		return nil, err
	}
	name, typ, pub, err := splitVKey(cvkey)
	if err != nil {
		return nil, err
	}
	// VerifierKey has checked the form; the base64 key may itself contain '+'.
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	seed, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil {
		return nil, fmt.Errorf("%w: signer key: %v", ErrBadKey, err)
	}
	if now == nil {
		now = time.Now
	}
	raw := append([]byte{typ}, pub...)
	return &Cosigner{name: name, hash: keyHash(name, raw), key: ed25519.NewKeyFromSeed(seed[1:]), now: now}, nil
}

// Name returns the witness's key name.
func (c *Cosigner) Name() string { return c.name }

// KeyHash returns the key ID of the cosignature/v1 key.
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// Sign returns timestamp || Ed25519 signature over the cosigned message.
// SPEC(tlog-cosignature): the timestamp must not be zero.
func (c *Cosigner) Sign(body []byte) ([]byte, error) {
	t := c.now().Unix()
	if t <= 0 {
		return nil, fmt.Errorf("%w: clock is before 1970", ErrBadCosignature)
	}
	sig := binary.BigEndian.AppendUint64(nil, uint64(t))
	return append(sig, ed25519.Sign(c.key, cosignedMessage(uint64(t), body))...), nil
}

// cosignatureVerifier checks cosignature/v1 signatures. It implements note.Verifier.
type cosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func newCosignatureVerifier(name string, key []byte) (note.Verifier, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: cosignature key is %d bytes, want %d", ErrBadKey, len(key), ed25519.PublicKeySize)
	}
	raw := append([]byte{KeyTypeCosignatureV1}, key...)
	return &cosignatureVerifier{name: name, hash: keyHash(name, raw), key: ed25519.PublicKey(key)}, nil
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(body, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t == 0 {
		return false
	}
	return ed25519.Verify(v.key, cosignedMessage(t, body), sig[8:])
}

// CosignatureTime returns the timestamp of a cosignature/v1 signature.
func CosignatureTime(sig note.Signature) (time.Time, error) {
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(raw) != 4+8+ed25519.SignatureSize {
		return time.Time{}, fmt.Errorf("%w: signature by %s is not a cosignature/v1", ErrBadCosignature, sig.Name)
	}
	t := binary.BigEndian.Uint64(raw[4:])
	if t == 0 || t > 1<<62 {
		return time.Time{}, fmt.Errorf("%w: timestamp %d out of range", ErrBadCosignature, t)
	}
	return time.Unix(int64(t), 0).UTC(), nil
}

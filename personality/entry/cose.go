package entry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/veraison/go-cose"
)

// ContentType is the content type in the body's protected header.
const ContentType = "application/tabularium-entry+cbor"

// Entry is a parsed entry. From Parse, every signature on it verified; from
// ParseUnverified, its signatures are well formed but were not checked.
type Entry struct {
	Raw     []byte      // the COSE_Sign bytes as logged
	Hash    [32]byte    // SHA-256 of Raw; the next entry of the object names it in Prev
	Payload *Payload    // the decoded payload
	Signers []PublicKey // the keys that signed, in signature order, distinct

	msg      *cose.SignMessage // the decoded message, kept by Decode for Verify
	verified bool
}

// Hash returns the entry hash of raw COSE bytes: SHA-256 over all of them.
func Hash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// IsSigned reports whether b looks like a COSE_Sign message rather than a bare
// payload (the form of an entry before its first signature).
func IsSigned(b []byte) bool { return bytes.HasPrefix(b, []byte{0xd8, 0x62}) }

// Parse decodes raw strictly and verifies every signature on it. It returns
// ErrTooLarge, ErrMalformed or ErrBadSignature (wrapped) on refusal.
func Parse(raw []byte) (*Entry, error) { return parse(raw, true, 0) }

// Decode decodes raw as strictly as Parse does but verifies no signature yet:
// it is the first half of Parse, for a server that judges an entry's signers
// against its state before it spends any cryptography on them (see Verify).
// An entry with more than maxSignatures signatures (0: no limit but MaxSize)
// is refused with ErrTooManySignatures before any key is even parsed.
func Decode(raw []byte, maxSignatures int) (*Entry, error) {
	return parse(raw, false, maxSignatures)
}

// Verify checks every signature of an entry from Decode, once; on an entry
// from Parse it does nothing. It returns ErrBadSignature (wrapped) if one does
// not verify.
func (e *Entry) Verify() error {
	if e.verified {
		return nil
	}
	if e.msg == nil {
		return fmt.Errorf("%w: the entry was not decoded by Decode", ErrMalformed)
	}
	for i, sig := range e.msg.Signatures {
		if _, err := verify(e.msg, sig, true); err != nil {
			return fmt.Errorf("signature %d: %w", i, err)
		}
	}
	e.verified, e.msg = true, nil
	return nil
}

// ParseUnverified decodes raw as strictly as Parse does, but does not check
// the signatures: Signers are the key ids of well-formed signatures. It is
// for entries read back from the log by its own server, which verified them
// before it logged them (the certificate issuer); whoever receives what it
// builds verifies the signatures again. Everyone else calls Parse.
func ParseUnverified(raw []byte) (*Entry, error) { return parse(raw, false, 0) }

func parse(raw []byte, check bool, maxSignatures int) (*Entry, error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxSize)
	}
	if maxSignatures > 0 {
		// Count from the framing first: decoding every signature's headers
		// costs more than the cap is meant to bound.
		if n, ok := countSignatures(raw); ok && n > uint64(maxSignatures) {
			return nil, fmt.Errorf("%w: %d signatures, limit %d", ErrTooManySignatures, n, maxSignatures)
		}
	}
	msg, err := decodeMessage(raw)
	if err != nil {
		return nil, err
	}
	p, err := DecodePayload(msg.Payload)
	if err != nil {
		return nil, err
	}
	if maxSignatures > 0 && len(msg.Signatures) > maxSignatures {
		return nil, fmt.Errorf("%w: %d signatures, limit %d", ErrTooManySignatures, len(msg.Signatures), maxSignatures)
	}
	e := &Entry{Raw: raw, Hash: Hash(raw), Payload: p, verified: check}
	if !check {
		e.msg = msg
	}
	seen := map[PublicKey]bool{}
	for i, sig := range msg.Signatures {
		key, err := verify(msg, sig, check)
		if err != nil {
			return nil, fmt.Errorf("signature %d: %w", i, err)
		}
		if seen[key] {
			return nil, fmt.Errorf("%w: %s signed twice", ErrMalformed, key)
		}
		seen[key] = true
		e.Signers = append(e.Signers, key)
	}
	return e, nil
}

// decodeMessage decodes a COSE_Sign_Tagged message and insists that it is in its
// only accepted form: the expected body header, empty unprotected headers, and
// bytes equal to the message's re-encoding.
func decodeMessage(raw []byte) (msg *cose.SignMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("%w: COSE decoding failed: %v", ErrMalformed, r)
		}
	}()
	msg = &cose.SignMessage{}
	if err := msg.UnmarshalCBOR(raw); err != nil {
		return nil, fmt.Errorf("%w: not a COSE_Sign message: %v", ErrMalformed, err)
	}
	body, err := bodyProtected()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(msg.Headers.RawProtected, body) || !emptyMap(msg.Headers.RawUnprotected) {
		return nil, fmt.Errorf("%w: body headers must be exactly {content type: %s}", ErrMalformed, ContentType)
	}
	if len(msg.Payload) == 0 {
		return nil, fmt.Errorf("%w: detached or empty payload", ErrMalformed)
	}
	re, err := msg.MarshalCBOR()
	if err != nil || !bytes.Equal(re, raw) {
		return nil, fmt.Errorf("%w: COSE message is not in its canonical encoding", ErrMalformed)
	}
	return msg, nil
}

func emptyMap(b []byte) bool { return len(b) == 1 && b[0] == 0xa0 }

func bodyProtected() ([]byte, error) {
	h := cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelContentType: ContentType}}
	return h.MarshalProtected()
}

func signatureProtected(alg cose.Algorithm, kid PublicKey) ([]byte, error) {
	h := cose.Headers{Protected: cose.ProtectedHeader{
		cose.HeaderLabelAlgorithm: alg,
		cose.HeaderLabelKeyID:     []byte(kid),
	}}
	return h.MarshalProtected()
}

// verify checks one signature: its headers are exactly {alg, kid}, kid is a
// canonical PublicKey, alg is that key's algorithm, and, if check is set, the
// signature verifies.
func verify(msg *cose.SignMessage, sig *cose.Signature, check bool) (PublicKey, error) {
	kidRaw, ok := sig.Headers.Protected[cose.HeaderLabelKeyID].([]byte)
	if !ok {
		return "", fmt.Errorf("%w: no key id", ErrMalformed)
	}
	kid := PublicKey(kidRaw)
	pub, err := ParsePublicKey(string(kid))
	if err != nil {
		return "", err
	}
	alg := algorithm(pub)
	want, err := signatureProtected(alg, kid)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(sig.Headers.RawProtected, want) || !emptyMap(sig.Headers.RawUnprotected) {
		return "", fmt.Errorf("%w: signature headers must be exactly {alg: %v, kid}", ErrMalformed, alg)
	}
	if !check {
		return kid, nil
	}
	v, err := cose.NewVerifier(alg, pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := sig.Verify(v, msg.Headers.RawProtected, msg.Payload, nil); err != nil {
		return "", fmt.Errorf("%w: by %s: %v", ErrBadSignature, kid, err)
	}
	return kid, nil
}

// Sign adds k's signature to b, which is either a bare payload (see
// EncodePayload) or a signed entry, and returns the signed entry. Every
// existing signature must verify; a key signs an entry at most once.
func Sign(b []byte, k *PrivateKey) ([]byte, error) {
	var msg *cose.SignMessage
	if IsSigned(b) {
		e, err := Parse(b)
		if err != nil {
			return nil, err
		}
		for _, s := range e.Signers {
			if s == k.Public {
				return nil, fmt.Errorf("%s has already signed this entry", k.Public)
			}
		}
		if msg, err = decodeMessage(b); err != nil {
			return nil, err
		}
	} else {
		var err error
		if msg, err = bareMessage(b); err != nil {
			return nil, err
		}
	}
	if err := addSignature(msg, k); err != nil {
		return nil, err
	}
	return encodeMessage(msg)
}

// New encodes p and signs it with every key in order; a convenience for tests and
// for parties who hold all the keys. It signs the message once per key without
// verifying the signatures it has just made, as Sign would.
func New(p *Payload, keys ...*PrivateKey) ([]byte, error) {
	b, err := EncodePayload(p)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("an entry needs at least one signature")
	}
	msg, err := bareMessage(b)
	if err != nil {
		return nil, err
	}
	seen := map[PublicKey]bool{}
	for _, k := range keys {
		if seen[k.Public] {
			return nil, fmt.Errorf("%s has already signed this entry", k.Public)
		}
		seen[k.Public] = true
		if err := addSignature(msg, k); err != nil {
			return nil, err
		}
	}
	return encodeMessage(msg)
}

// bareMessage wraps a payload, checked, in an unsigned COSE_Sign message.
func bareMessage(b []byte) (*cose.SignMessage, error) {
	if _, err := DecodePayload(b); err != nil {
		return nil, err
	}
	body, err := bodyProtected()
	if err != nil {
		return nil, err
	}
	msg := cose.NewSignMessage()
	msg.Headers.RawProtected = body
	msg.Headers.RawUnprotected = []byte{0xa0}
	msg.Payload = b
	return msg, nil
}

// addSignature appends k's signature over msg's body and payload.
func addSignature(msg *cose.SignMessage, k *PrivateKey) error {
	pub, err := ParsePublicKey(string(k.Public))
	if err != nil {
		return err
	}
	alg := algorithm(pub)
	signer, err := cose.NewSigner(alg, k.signer)
	if err != nil {
		return err
	}
	prot, err := signatureProtected(alg, k.Public)
	if err != nil {
		return err
	}
	sig := &cose.Signature{Headers: cose.Headers{RawProtected: prot, RawUnprotected: []byte{0xa0}}}
	if err := sig.Headers.UnmarshalFromRaw(); err != nil {
		return err
	}
	if err := sig.Sign(rand.Reader, signer, msg.Headers.RawProtected, msg.Payload, nil); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	msg.Signatures = append(msg.Signatures, sig)
	return nil
}

// encodeMessage encodes a signed message, within MaxSize.
func encodeMessage(msg *cose.SignMessage) ([]byte, error) {
	out, err := msg.MarshalCBOR()
	if err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	if len(out) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes once signed", ErrTooLarge, len(out))
	}
	return out, nil
}

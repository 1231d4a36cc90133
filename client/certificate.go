package client

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/tabularium/tabularium/personality/entry"
)

// CertificateFormat names the layout of a certificate's extra data. It is the
// first field of the extra data, so that no other use of the extra line is
// mistaken for a certificate.
const CertificateFormat = "tabularium-certificate/v1"

// MaxOpenings is the largest number of document openings a certificate carries.
const MaxOpenings = 16

// ErrMalformedCertificate is returned for a certificate whose tlog-proof or
// extra data is not in its one canonical form.
var ErrMalformedCertificate = errors.New("malformed certificate")

// Certificate is what a registry hands a citizen: an entry, the proof that it is
// in the log under a cosigned checkpoint, and optionally the openings of some of
// the entry's document commitments.
//
// On the wire a certificate is a c2sp.org/tlog-proof whose extra data is the
// deterministic CBOR map {0: CertificateFormat, 1: entry, 2: [openings]}. The
// extra data is unauthenticated by the proof itself; every byte of it is bound
// by Verify: the entry by its leaf hash, each opening by its commitment.
type Certificate struct {
	// Entry is the COSE_Sign entry exactly as logged.
	Entry    []byte
	Openings []Opening
	// Index, Hashes and Checkpoint are the tlog-proof's.
	Index      uint64
	Hashes     [][32]byte
	Checkpoint []byte
}

// Opening reveals one document committed to by the entry: the commitment
// Docs[Doc] of the entry's payload is SHA-256(Salt || Contents).
type Opening struct {
	Doc      uint64 `cbor:"1,keyasint"`
	Salt     []byte `cbor:"2,keyasint"`
	Contents []byte `cbor:"3,keyasint"`
}

// certExtra is the extra data of a certificate's tlog-proof.
type certExtra struct {
	Format   string    `cbor:"0,keyasint"`
	Entry    []byte    `cbor:"1,keyasint"`
	Openings []Opening `cbor:"2,keyasint,omitempty"`
}

var (
	extraEnc cbor.EncMode
	extraDec cbor.DecMode
)

func init() {
	var err error
	if extraEnc, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	dec := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   4,
		MaxArrayElements:  MaxOpenings,
		MaxMapPairs:       16,
		UTF8:              cbor.UTF8RejectInvalid,
	}
	if extraDec, err = dec.DecMode(); err != nil {
		panic(err)
	}
}

// Proof returns the certificate as a c2sp.org/tlog-proof.
func (c *Certificate) Proof() (*Proof, error) {
	if len(c.Entry) == 0 || len(c.Entry) > entry.MaxSize {
		return nil, fmt.Errorf("%w: entry of %d bytes", ErrMalformedCertificate, len(c.Entry))
	}
	if len(c.Openings) > MaxOpenings {
		return nil, fmt.Errorf("%w: %d openings, limit %d", ErrMalformedCertificate, len(c.Openings), MaxOpenings)
	}
	extra, err := extraEnc.Marshal(certExtra{Format: CertificateFormat, Entry: c.Entry, Openings: c.Openings})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedCertificate, err)
	}
	return &Proof{Extra: extra, Index: c.Index, Hashes: c.Hashes, Checkpoint: c.Checkpoint}, nil
}

// Marshal returns the certificate's canonical text.
func (c *Certificate) Marshal() ([]byte, error) {
	p, err := c.Proof()
	if err != nil {
		return nil, err
	}
	return p.Marshal(), nil
}

// ParseCertificate parses a certificate strictly. It checks the form of every
// part, not its signatures or proofs; Verify does that.
func ParseCertificate(text []byte) (*Certificate, error) {
	p, err := ParseProof(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCertificate, err)
	}
	return FromProof(p)
}

// FromProof decodes the extra data of a tlog-proof into a certificate.
func FromProof(p *Proof) (*Certificate, error) {
	if p.Extra == nil {
		return nil, fmt.Errorf("%w: the tlog-proof has no extra data, so it carries no entry", ErrMalformedCertificate)
	}
	var x certExtra
	if err := extraDec.Unmarshal(p.Extra, &x); err != nil {
		return nil, fmt.Errorf("%w: extra data: %v", ErrMalformedCertificate, err)
	}
	if x.Format != CertificateFormat {
		return nil, fmt.Errorf("%w: extra data is %q, want %q", ErrMalformedCertificate, x.Format, CertificateFormat)
	}
	if len(x.Entry) == 0 || len(x.Entry) > entry.MaxSize {
		return nil, fmt.Errorf("%w: entry of %d bytes", ErrMalformedCertificate, len(x.Entry))
	}
	if x.Openings != nil && len(x.Openings) == 0 {
		return nil, fmt.Errorf("%w: empty list of openings", ErrMalformedCertificate)
	}
	for i, o := range x.Openings {
		if len(o.Salt) == 0 || len(o.Salt) > 64 {
			return nil, fmt.Errorf("%w: opening %d: salt of %d bytes, want 1 to 64", ErrMalformedCertificate, i, len(o.Salt))
		}
		if i > 0 && o.Doc <= x.Openings[i-1].Doc {
			return nil, fmt.Errorf("%w: openings are not in increasing order of document", ErrMalformedCertificate)
		}
	}
	// SPEC(RFC 8949 §4.2): one canonical encoding, so that the certificate's
	// bytes are determined by its content.
	re, err := extraEnc.Marshal(x)
	if err != nil || !bytes.Equal(re, p.Extra) {
		return nil, fmt.Errorf("%w: extra data is not in core deterministic CBOR", ErrMalformedCertificate)
	}
	return &Certificate{Entry: x.Entry, Openings: x.Openings, Index: p.Index, Hashes: p.Hashes, Checkpoint: p.Checkpoint}, nil
}

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

// MaxGrants is the largest number of role grants a certificate carries.
const MaxGrants = 16

// ErrMalformedCertificate is returned for a certificate whose tlog-proof or
// extra data is not in its one canonical form.
var ErrMalformedCertificate = errors.New("malformed certificate")

// Certificate is what a registry hands a citizen: an entry, the proof that it is
// in the log under a cosigned checkpoint, and optionally the openings of some of
// the entry's document commitments.
//
// On the wire a certificate is a c2sp.org/tlog-proof whose extra data is the
// deterministic CBOR map {0: CertificateFormat, 1: entry, 2: [openings],
// 3: [grants]}, where 2 and 3 are optional. The extra data is unauthenticated
// by the proof itself; every byte of it is bound by Verify: the entry by its
// leaf hash, each opening by its commitment, each grant by its leaf hash and
// inclusion proof in the same checkpoint, and by being needed to prove a
// signer's role.
type Certificate struct {
	// Entry is the COSE_Sign entry exactly as logged.
	Entry    []byte
	Openings []Opening
	// Grants are the role.grant entries that gave the entry's signers their
	// roles, and recursively their grantors theirs, up to grants signed by
	// root keys; in increasing order of index.
	Grants []Grant
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

// Grant is a role.grant entry of the certificate's log, {1: index, 2: entry,
// 3: [inclusion proof hashes]}, proven in the certificate's checkpoint.
type Grant struct {
	Index  uint64   `cbor:"1,keyasint"`
	Entry  []byte   `cbor:"2,keyasint"`
	Hashes [][]byte `cbor:"3,keyasint"`
}

// certExtra is the extra data of a certificate's tlog-proof.
type certExtra struct {
	Format   string    `cbor:"0,keyasint"`
	Entry    []byte    `cbor:"1,keyasint"`
	Openings []Opening `cbor:"2,keyasint,omitempty"`
	Grants   []Grant   `cbor:"3,keyasint,omitempty"`
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
		MaxArrayElements:  MaxProofHashes,
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
	x := certExtra{Format: CertificateFormat, Entry: c.Entry, Openings: c.Openings, Grants: c.Grants}
	if err := x.check(); err != nil {
		return nil, err
	}
	extra, err := extraEnc.Marshal(x)
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
	if err := x.check(); err != nil {
		return nil, err
	}
	// SPEC(RFC 8949 §4.2): one canonical encoding, so that the certificate's
	// bytes are determined by its content.
	re, err := extraEnc.Marshal(x)
	if err != nil || !bytes.Equal(re, p.Extra) {
		return nil, fmt.Errorf("%w: extra data is not in core deterministic CBOR", ErrMalformedCertificate)
	}
	return &Certificate{Entry: x.Entry, Openings: x.Openings, Grants: x.Grants, Index: p.Index, Hashes: p.Hashes, Checkpoint: p.Checkpoint}, nil
}

// check checks the form of the extra data: sizes, counts, and the one order
// of openings and grants.
func (x *certExtra) check() error {
	if len(x.Entry) == 0 || len(x.Entry) > entry.MaxSize {
		return fmt.Errorf("%w: entry of %d bytes", ErrMalformedCertificate, len(x.Entry))
	}
	if x.Openings != nil && len(x.Openings) == 0 {
		return fmt.Errorf("%w: empty list of openings", ErrMalformedCertificate)
	}
	if len(x.Openings) > MaxOpenings {
		return fmt.Errorf("%w: %d openings, limit %d", ErrMalformedCertificate, len(x.Openings), MaxOpenings)
	}
	for i, o := range x.Openings {
		if len(o.Salt) == 0 || len(o.Salt) > 64 {
			return fmt.Errorf("%w: opening %d: salt of %d bytes, want 1 to 64", ErrMalformedCertificate, i, len(o.Salt))
		}
		if i > 0 && o.Doc <= x.Openings[i-1].Doc {
			return fmt.Errorf("%w: openings are not in increasing order of document", ErrMalformedCertificate)
		}
	}
	if x.Grants != nil && len(x.Grants) == 0 {
		return fmt.Errorf("%w: empty list of grants", ErrMalformedCertificate)
	}
	if len(x.Grants) > MaxGrants {
		return fmt.Errorf("%w: %d grants, limit %d", ErrMalformedCertificate, len(x.Grants), MaxGrants)
	}
	for i, g := range x.Grants {
		if len(g.Entry) == 0 || len(g.Entry) > entry.MaxSize {
			return fmt.Errorf("%w: grant %d: entry of %d bytes", ErrMalformedCertificate, i, len(g.Entry))
		}
		if len(g.Hashes) > MaxProofHashes {
			return fmt.Errorf("%w: grant %d: %d proof hashes, limit %d", ErrMalformedCertificate, i, len(g.Hashes), MaxProofHashes)
		}
		for _, h := range g.Hashes {
			if len(h) != 32 {
				return fmt.Errorf("%w: grant %d: proof hash of %d bytes", ErrMalformedCertificate, i, len(h))
			}
		}
		if i > 0 && g.Index <= x.Grants[i-1].Index {
			return fmt.Errorf("%w: grants are not in increasing order of index", ErrMalformedCertificate)
		}
	}
	return nil
}

package client

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

// Summary is what a verified certificate establishes.
type Summary struct {
	Origin    string
	Index     uint64
	EntryHash [32]byte // SHA-256 of the entry, the hash the object's next entry names
	Type      string
	Object    string
	// SignedAt is the time the signers claim in the entry.
	SignedAt time.Time
	Signers  []entry.PublicKey
	// Proven are the roles the entry needs, proven by the certificate's
	// grants; Roles is the account of them for a person.
	Proven []ProvenRole
	Roles  string
	// Opened lists the kinds of the documents whose openings matched.
	Opened []OpenedDocument
	// Checkpoint is the cosigned checkpoint the entry is proven in.
	Checkpoint   log.Checkpoint
	Cosignatures []log.Cosignature
}

// OpenedDocument is one document opening that matched its commitment.
type OpenedDocument struct {
	Kind     string
	Contents []byte
}

// Verify checks a certificate entirely offline against a trust policy: the log
// is in the policy; the checkpoint is signed by the log; every signature on it
// is by a key of the policy and verifies; the witnesses' cosignatures, each no
// older than maxAge before now (0: no limit), meet the quorum; the entry parses
// and all its signatures verify; it was made for this log; its RFC 6962 leaf
// hash is included in the checkpoint's tree at the certificate's index; and
// every opening matches its commitment. A refusal is a *VerifyError.
//
// Verify trusts no root keys: it checks the certificate's role grants but not
// whom their chains end at; VerifyWithRoots does.
func Verify(p *log.Policy, c *Certificate, now time.Time, maxAge time.Duration) (*Summary, error) {
	return VerifyWithRoots(p, nil, c, now, maxAge)
}

// VerifyWithRoots is Verify that also proves the signers' roles as recorded,
// up to the root keys the verifier trusts for the log (roots, see ParseRoots).
// Each grant the certificate carries must be a validly signed role.grant entry
// of the log, included in the same checkpoint at an index below the entry it
// serves; for every role the entry type needs (rules.RequiredRoles), a signer
// must hold it by the latest such grant, whose own signer holds the granting
// role by a further grant, up to a grant signed by a trusted root key; and
// every grant must serve. Without roots for the log, a certificate without
// grants verifies with its roles reported as not proven, and the chains of one
// with grants are checked up to a root key that is reported as not trusted. A
// revocation after a grant is not ruled out: that needs the state map.
func VerifyWithRoots(p *log.Policy, roots Roots, c *Certificate, now time.Time, maxAge time.Duration) (*Summary, error) {
	cp, cosigs, err := verifyCheckpoint(p, c.Checkpoint, now, maxAge)
	if err != nil {
		return nil, err
	}
	e, err := entry.Parse(c.Entry)
	if err != nil {
		return nil, refuse(ErrEntry, err, "entry %d", c.Index)
	}
	if e.Payload.Log != cp.Origin {
		return nil, refuse(ErrWrongLog, nil, "the entry names log %q, the checkpoint is of %q", e.Payload.Log, cp.Origin)
	}
	if c.Index >= cp.Size {
		return nil, refuse(ErrInclusion, nil, "index %d is not below the checkpoint's size %d", c.Index, cp.Size)
	}
	hashes := make([][]byte, len(c.Hashes))
	for i := range c.Hashes {
		hashes[i] = c.Hashes[i][:]
	}
	if err := log.VerifyInclusion(c.Index, cp.Size, log.LeafHash(c.Entry), hashes, cp.Hash); err != nil {
		return nil, refuse(ErrInclusion, err, "")
	}
	opened, err := checkOpenings(e, c.Openings)
	if err != nil {
		return nil, err
	}
	proven, account, err := verifyRoles(cp, c, e, roots)
	if err != nil {
		return nil, err
	}
	return &Summary{
		Origin: cp.Origin, Index: c.Index, EntryHash: e.Hash,
		Type: e.Payload.Type, Object: e.Payload.Object, SignedAt: time.Unix(e.Payload.Time, 0).UTC(),
		Signers: e.Signers, Proven: proven, Roles: account, Opened: opened,
		Checkpoint: cp, Cosignatures: cosigs,
	}, nil
}

// verifyCheckpoint opens a certificate's checkpoint under the policy and
// classifies every way it can fail.
func verifyCheckpoint(p *log.Policy, msg []byte, now time.Time, maxAge time.Duration) (log.Checkpoint, []log.Cosignature, error) {
	body, _, _ := bytes.Cut(msg, []byte("\n\n"))
	cp, err := log.ParseCheckpoint(append(bytes.Clone(body), '\n'))
	if err != nil {
		return log.Checkpoint{}, nil, refuse(ErrMalformedCertificate, err, "checkpoint")
	}
	l, ok := p.Log(cp.Origin)
	if !ok {
		return log.Checkpoint{}, nil, refuse(ErrUnknownLog, nil, "origin %q", cp.Origin)
	}
	if err := checkSigners(p, l, msg); err != nil {
		return cp, nil, err
	}
	_, cosigs, err := p.VerifyCheckpoint(msg, cp.Origin, now, maxAge)
	if errors.Is(err, log.ErrQuorum) {
		if _, _, err2 := p.VerifyCheckpoint(msg, cp.Origin, now, 0); err2 == nil {
			return cp, nil, refuse(ErrStaleCosignatures, err, "maximum age %s", maxAge)
		}
		return cp, nil, refuse(ErrTooFewCosignatures, err, "")
	}
	if err != nil {
		return cp, nil, classify(p, l, msg, err)
	}
	return cp, cosigs, nil
}

// checkSigners refuses a checkpoint with a signature line by a key the policy
// does not know, or two lines by one key: note.Open would skip them, and a
// certificate must change in no byte without being refused.
func checkSigners(p *log.Policy, l log.PolicyLog, msg []byte) error {
	_, sigs, _ := bytes.Cut(msg, []byte("\n\n"))
	known := map[string]bool{signerID(l.Verifier.Name(), l.Verifier.KeyHash()): true}
	for _, w := range p.Witnesses {
		known[signerID(w.Verifier.Name(), w.Verifier.KeyHash())] = true
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(sigs), "\n"), "\n") {
		// checkNoteForm has checked the form of each line.
		name, sig, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(raw) < 4 {
			return refuse(ErrMalformedCertificate, nil, "signature line %q", line)
		}
		id := signerID(name, binary.BigEndian.Uint32(raw))
		if !known[id] && name == l.Verifier.Name() {
			return refuse(ErrLogSignature, nil, "signed by a key named %s that is not the policy's key for the log", name)
		}
		if !known[id] {
			return refuse(ErrUnknownSignature, nil, "by %s", name)
		}
		if seen[id] {
			return refuse(ErrMalformedCertificate, nil, "two signatures by %s", name)
		}
		seen[id] = true
	}
	return nil
}

func signerID(name string, hash uint32) string { return fmt.Sprintf("%s+%08x", name, hash) }

// classify turns the failure to open a checkpoint into a refusal that says
// whose signature failed.
func classify(p *log.Policy, l log.PolicyLog, msg []byte, err error) error {
	vs := []note.Verifier{l.Verifier}
	for _, w := range p.Witnesses {
		vs = append(vs, w.Verifier)
	}
	_, nerr := note.Open(msg, note.VerifierList(vs...))
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(nerr, &invalid) && invalid.Name == l.Verifier.Name() && invalid.Hash == l.Verifier.KeyHash():
		return refuse(ErrLogSignature, nil, "the signature by %s does not verify", invalid.Name)
	case errors.As(nerr, &invalid):
		return refuse(ErrBadCosignature, nil, "the cosignature by %s does not verify", witnessName(p, invalid.Name))
	case errors.Is(err, log.ErrMalformedCheckpoint):
		return refuse(ErrMalformedCertificate, err, "checkpoint")
	}
	return refuse(ErrLogSignature, err, "")
}

func witnessName(p *log.Policy, keyName string) string {
	for _, w := range p.Witnesses {
		if w.Verifier.Name() == keyName {
			return w.Name
		}
	}
	return keyName
}

// checkOpenings checks each opening against the commitment it names.
func checkOpenings(e *entry.Entry, os []Opening) ([]OpenedDocument, error) {
	var out []OpenedDocument
	docs := e.Payload.Docs
	for _, o := range os {
		if o.Doc >= uint64(len(docs)) {
			return nil, refuse(ErrOpening, nil, "document %d: the entry commits to %d documents", o.Doc, len(docs))
		}
		d := docs[o.Doc]
		got := entry.CommitWithSalt(d.Kind, o.Salt, o.Contents)
		if subtle.ConstantTimeCompare(got.Hash, d.Hash) != 1 {
			return nil, refuse(ErrOpening, nil, "document %d (%s): SHA-256(salt || contents) is %x, the entry commits to %x", o.Doc, d.Kind, got.Hash, d.Hash)
		}
		out = append(out, OpenedDocument{Kind: d.Kind, Contents: o.Contents})
	}
	return out, nil
}

// String returns a short account of the summary for a person.
func (s *Summary) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "VERIFIED %s of %s\n", s.Type, s.Object)
	fmt.Fprintf(&b, "  log:        %s, entry %d (entry hash %x)\n", s.Origin, s.Index, s.EntryHash)
	fmt.Fprintf(&b, "  signed at:  %s (as claimed by the signers)\n", s.SignedAt.Format(time.RFC3339))
	signer := map[entry.PublicKey]bool{}
	for _, k := range s.Signers {
		signer[k] = true
		fmt.Fprintf(&b, "  signed by:  %s", k)
		sep := " as "
		for _, r := range s.Proven {
			if r.Key == k {
				fmt.Fprintf(&b, "%s%s", sep, r)
				sep = "; as "
			}
		}
		b.WriteString("\n")
	}
	for _, r := range s.Proven {
		if !signer[r.Key] {
			fmt.Fprintf(&b, "  role:       %s as %s\n", r.Key, r)
		}
	}
	fmt.Fprintf(&b, "  roles:      %s\n", s.Roles)
	for _, d := range s.Opened {
		fmt.Fprintf(&b, "  document:   %s (%d bytes) matches its commitment\n", d.Kind, len(d.Contents))
	}
	fmt.Fprintf(&b, "  logged as of checkpoint of size %d, root %x\n", s.Checkpoint.Size, s.Checkpoint.Hash)
	for _, c := range s.Cosignatures {
		fmt.Fprintf(&b, "  witnessed:  by %s at %s\n", c.Witness, c.Time.Format(time.RFC3339))
	}
	return b.String()
}

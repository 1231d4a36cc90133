package client

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tabularium/tabularium/log"
)

// ProofHeader is the first line of every c2sp.org/tlog-proof.
const ProofHeader = "c2sp.org/tlog-proof@v1"

// Size limits of what ParseProof accepts.
const (
	// MaxProofSize bounds a whole proof file, extra data included: an entry of
	// up to 64 KiB and openings of its documents fit with room to spare.
	MaxProofSize = 4 << 20
	// MaxProofHashes is the longest inclusion proof in a tree of at most
	// log.MaxTreeSize leaves.
	MaxProofHashes = 63
)

// ErrMalformedProof is returned for text that is not a canonical
// c2sp.org/tlog-proof. Callers must refuse it.
var ErrMalformedProof = errors.New("malformed tlog-proof")

// Proof is a c2sp.org/tlog-proof: a signed (and usually cosigned) checkpoint,
// the index of an entry, its RFC 6962 inclusion proof in the checkpoint's tree,
// and optional unauthenticated extra data.
type Proof struct {
	// Extra is the opaque extra data; nil when the proof has no extra line.
	Extra  []byte
	Index  uint64
	Hashes [][32]byte
	// Checkpoint is the signed checkpoint note, verbatim.
	Checkpoint []byte
}

// Marshal returns the canonical text of the proof.
func (p *Proof) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ProofHeader + "\n")
	if p.Extra != nil {
		b.WriteString("extra " + base64.StdEncoding.EncodeToString(p.Extra) + "\n")
	}
	b.WriteString("index " + strconv.FormatUint(p.Index, 10) + "\n")
	for _, h := range p.Hashes {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseProof parses a tlog-proof strictly: the only accepted text is the one
// Marshal would produce. It checks the checkpoint's form (a body in canonical
// c2sp.org/tlog-checkpoint form followed by signature lines) but none of its
// signatures; Verify does that.
func ParseProof(text []byte) (*Proof, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformedProof, fmt.Sprintf(format, a...))
	}
	if len(text) > MaxProofSize {
		return nil, bad("%d bytes is over the limit of %d", len(text), MaxProofSize)
	}
	// SPEC(tlog-proof): the proof is a sequence of lines separated by newlines;
	// the inclusion proof ends with an empty line, then comes the checkpoint.
	head, cp, ok := bytes.Cut(text, []byte("\n\n"))
	if !ok {
		return nil, bad("no empty line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	// SPEC(tlog-proof): the first line MUST be the string c2sp.org/tlog-proof@v1.
	if lines[0] != ProofHeader {
		return nil, bad("first line is not %q", ProofHeader)
	}
	lines = lines[1:]
	p := &Proof{}
	// SPEC(tlog-proof): the second line MAY be "extra" and base64 extra data;
	// without extra data the line is omitted, so an empty one is not canonical.
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		extra, err := decodeCanonical(strings.TrimPrefix(lines[0], "extra "))
		if err != nil || len(extra) == 0 {
			return nil, bad("extra data is not non-empty canonical base64")
		}
		p.Extra = extra
		lines = lines[1:]
	}
	// SPEC(tlog-proof): "index", a space, and an ASCII decimal with no leading zeroes.
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return nil, bad("no index line")
	}
	idx := strings.TrimPrefix(lines[0], "index ")
	n, err := strconv.ParseUint(idx, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != idx || n >= log.MaxTreeSize {
		return nil, bad("index %q is not a canonical decimal in range", idx)
	}
	p.Index = n
	lines = lines[1:]
	if len(lines) > MaxProofHashes {
		return nil, bad("%d proof hashes is over the limit of %d", len(lines), MaxProofHashes)
	}
	for i, l := range lines {
		h, err := decodeCanonical(l)
		if err != nil || len(h) != 32 {
			return nil, bad("proof hash %d is not 32 bytes of canonical base64", i+1)
		}
		p.Hashes = append(p.Hashes, [32]byte(h))
	}
	if err := checkNoteForm(cp); err != nil {
		return nil, fmt.Errorf("%w: checkpoint: %w", ErrMalformedProof, err)
	}
	p.Checkpoint = cp
	return p, nil
}

// decodeCanonical decodes standard padded base64 and refuses any encoding other
// than the one EncodeToString produces.
func decodeCanonical(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}

// checkNoteForm checks that cp is a checkpoint body in canonical form, an empty
// line, and one or more signature lines "— name base64", ending in a newline.
func checkNoteForm(cp []byte) error {
	if len(cp) > log.MaxNoteSize {
		return fmt.Errorf("%d bytes is over the limit of %d", len(cp), log.MaxNoteSize)
	}
	body, sigs, ok := bytes.Cut(cp, []byte("\n\n"))
	if !ok {
		return errors.New("no signatures")
	}
	if _, err := log.ParseCheckpoint(append(body, '\n')); err != nil {
		return err
	}
	if len(sigs) == 0 || sigs[len(sigs)-1] != '\n' {
		return errors.New("signatures do not end in a newline")
	}
	for i, l := range strings.Split(string(sigs[:len(sigs)-1]), "\n") {
		// SPEC(signed-note): each signature line is U+2014, a space, the key
		// name, a space, and the base64 of key hash and signature.
		rest, ok := strings.CutPrefix(l, "— ")
		name, sig, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || name == "" || strings.ContainsAny(name, "+ ") {
			return fmt.Errorf("signature line %d is not \"— name signature\"", i+1)
		}
		if raw, err := decodeCanonical(sig); err != nil || len(raw) < 5 {
			return fmt.Errorf("signature line %d is not canonical base64", i+1)
		}
	}
	return nil
}

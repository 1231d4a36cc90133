package witness

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/tabularium/tabularium/log"
)

// MaxProofLines is the longest consistency proof accepted.
// SPEC(tlog-witness): "The client MUST NOT send more than 63 consistency proof lines."
const MaxProofLines = 63

// MaxBodySize bounds an add-checkpoint request body: the old size line, the
// longest proof, the empty line and the largest signed checkpoint note.
const MaxBodySize = len("old 18446744073709551615\n") + MaxProofLines*len("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n") + 1 + log.MaxNoteSize

// AddCheckpointRequest is a parsed add-checkpoint request body.
type AddCheckpointRequest struct {
	OldSize uint64
	Proof   [][]byte // consistency proof hashes, 32 bytes each
	Note    []byte   // the signed checkpoint note, not yet verified
}

// ParseAddCheckpoint parses an add-checkpoint request body strictly. It does not
// verify the checkpoint note; errors wrap ErrMalformed.
func ParseAddCheckpoint(body []byte) (AddCheckpointRequest, error) {
	var req AddCheckpointRequest
	if len(body) > MaxBodySize {
		return req, fmt.Errorf("%w: body of %d bytes is over the limit of %d", ErrMalformed, len(body), MaxBodySize)
	}
	// SPEC(tlog-witness): "Each line MUST terminate in a newline character (U+000A)."
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return req, fmt.Errorf("%w: no old size line", ErrMalformed)
	}
	size, err := parseOldSize(line)
	if err != nil {
		return req, err
	}
	req.OldSize = size
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return req, fmt.Errorf("%w: no empty line before the checkpoint", ErrMalformed)
		}
		if len(line) == 0 {
			break
		}
		if len(req.Proof) == MaxProofLines {
			return req, fmt.Errorf("%w: more than %d proof lines", ErrMalformed, MaxProofLines)
		}
		h, err := parseProofHash(line)
		if err != nil {
			return req, err
		}
		req.Proof = append(req.Proof, h)
	}
	if len(rest) == 0 {
		return req, fmt.Errorf("%w: no checkpoint", ErrMalformed)
	}
	req.Note = rest
	return req, nil
}

// parseOldSize parses the "old <size>" line, without its newline.
func parseOldSize(line []byte) (uint64, error) {
	// SPEC(tlog-witness): "The old size line MUST consist of the string old, a
	// single space (0x20), and the tree size of the previous checkpoint encoded as
	// an ASCII decimal with no leading zeroes".
	s, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok || len(s) == 0 || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: bad old size line %q", ErrMalformed, truncate(line))
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: bad old size line %q", ErrMalformed, truncate(line))
		}
	}
	n, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil || n > log.MaxTreeSize {
		return 0, fmt.Errorf("%w: old size %q is out of range", ErrMalformed, truncate(s))
	}
	return n, nil
}

// parseProofHash decodes one consistency proof line, without its newline.
func parseProofHash(line []byte) ([]byte, error) {
	// SPEC(tlog-witness): "Each consistency proof line MUST encode a single hash
	// in base64." Only the canonical standard encoding of 32 bytes is accepted.
	h, err := base64.StdEncoding.Strict().DecodeString(string(line))
	if err != nil || len(h) != 32 || base64.StdEncoding.EncodeToString(h) != string(line) {
		return nil, fmt.Errorf("%w: proof line %q is not a base64 hash", ErrMalformed, truncate(line))
	}
	return h, nil
}

// truncate shortens attacker-controlled text before it goes into an error.
func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

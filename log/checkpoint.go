package log

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxCheckpointSize bounds the text of a checkpoint body (origin, size, hash and
// extension lines) that this package will parse.
const MaxCheckpointSize = 4096

// MaxTreeSize is the largest tree size accepted in a checkpoint. Sizes above it cannot
// be addressed by tiles with signed 64-bit offsets and are refused.
const MaxTreeSize = 1<<63 - 1

// ErrMalformedCheckpoint is returned for a checkpoint body that is not in the exact
// canonical form of c2sp.org/tlog-checkpoint. Callers must refuse the checkpoint.
var ErrMalformedCheckpoint = errors.New("malformed checkpoint")

// Checkpoint is the body of a c2sp.org/tlog-checkpoint note.
type Checkpoint struct {
	Origin string
	Size   uint64
	Hash   [32]byte
	// Extension holds the optional extension lines, each ending in a newline.
	Extension string
}

// ParseCheckpoint parses the body of a checkpoint note (without its signatures).
// It accepts only the canonical encoding: every line ends in a newline, the size is
// decimal without leading zeros, and the hash is exactly 32 bytes in standard base64.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if len(text) > MaxCheckpointSize {
		return Checkpoint{}, fmt.Errorf("%w: %d bytes is over the limit of %d", ErrMalformedCheckpoint, len(text), MaxCheckpointSize)
	}
	if !utf8.Valid(text) {
		return Checkpoint{}, fmt.Errorf("%w: not UTF-8", ErrMalformedCheckpoint)
	}
	// SPEC(tlog-checkpoint): the body is a sequence of lines, each terminated by a newline.
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return Checkpoint{}, fmt.Errorf("%w: does not end in a newline", ErrMalformedCheckpoint)
	}
	lines := strings.SplitAfter(string(text), "\n")
	lines = lines[:len(lines)-1] // SplitAfter leaves an empty string after the final newline
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("%w: want at least 3 lines, got %d", ErrMalformedCheckpoint, len(lines))
	}
	for i, l := range lines {
		if l == "\n" {
			return Checkpoint{}, fmt.Errorf("%w: line %d is empty", ErrMalformedCheckpoint, i+1)
		}
		// SPEC(signed-note): the text must not contain ASCII control characters
		// other than newline; a body with one could never be signed or opened.
		if strings.IndexFunc(strings.TrimSuffix(l, "\n"), isControl) >= 0 {
			return Checkpoint{}, fmt.Errorf("%w: line %d has a control character", ErrMalformedCheckpoint, i+1)
		}
	}
	var c Checkpoint
	c.Origin = strings.TrimSuffix(lines[0], "\n")
	size, err := parseSize(strings.TrimSuffix(lines[1], "\n"))
	if err != nil {
		return Checkpoint{}, err
	}
	c.Size = size
	hash, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSuffix(lines[2], "\n"))
	if err != nil || len(hash) != 32 {
		return Checkpoint{}, fmt.Errorf("%w: root hash is not 32 bytes of standard base64", ErrMalformedCheckpoint)
	}
	// Reject non-canonical base64 (for example, non-zero padding bits).
	if base64.StdEncoding.EncodeToString(hash) != strings.TrimSuffix(lines[2], "\n") {
		return Checkpoint{}, fmt.Errorf("%w: root hash is not canonical base64", ErrMalformedCheckpoint)
	}
	copy(c.Hash[:], hash)
	c.Extension = strings.Join(lines[3:], "")
	return c, nil
}

// isControl reports whether r is an ASCII control character (C0 or DEL).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// parseSize parses a decimal tree size in canonical form.
func parseSize(s string) (uint64, error) {
	// SPEC(tlog-checkpoint): the tree size is an ASCII decimal number with no leading zeros.
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w: tree size %q is not a canonical decimal", ErrMalformedCheckpoint, s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxTreeSize {
		return 0, fmt.Errorf("%w: tree size %q is out of range", ErrMalformedCheckpoint, s)
	}
	return n, nil
}

// Marshal returns the canonical body of the checkpoint.
func (c Checkpoint) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n%s", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]), c.Extension)
	return b.Bytes()
}

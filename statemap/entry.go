package statemap

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EntryHeader is the first line of a map entry, naming its format.
const EntryHeader = "tabularium.state/v1"

// MaxEntrySize bounds the text of a map entry that ParseEntry will read.
const MaxEntrySize = 4096

// MaxCount is the largest input size or object count a map entry may carry, as
// for a checkpoint's tree size.
const MaxCount = 1<<63 - 1

// ErrMalformedEntry is returned for bytes that are not the one encoding of a map
// entry. Callers must refuse the entry.
var ErrMalformedEntry = errors.New("malformed map entry")

// Entry is a map entry, a leaf of the state log: the map root computed from the
// input log at the tree head (Origin, Size, Hash), and the number of objects the
// map holds.
type Entry struct {
	Origin  string         // the input log's origin
	Size    uint64         // the input log's size the map was computed at
	Hash    [HashSize]byte // the input log's root hash at Size
	Root    [HashSize]byte // the map root
	Objects uint64         // the number of keys present in the map
}

// Marshal returns the entry's encoding, six lines each ending in a newline.
func (e Entry) Marshal() []byte {
	return fmt.Appendf(nil, "%s\n%s\n%d\n%s\n%s\n%d\n", EntryHeader, e.Origin, e.Size,
		base64.StdEncoding.EncodeToString(e.Hash[:]), base64.StdEncoding.EncodeToString(e.Root[:]), e.Objects)
}

// ParseEntry parses a map entry. It accepts only the canonical encoding: exactly
// six lines each ending in a newline, the header line, an origin without spaces
// or control characters, decimal numbers without leading zeroes, and hashes of
// 32 bytes in canonical standard base64.
func ParseEntry(b []byte) (Entry, error) {
	if len(b) > MaxEntrySize {
		return Entry{}, fmt.Errorf("%w: %d bytes is over the limit of %d", ErrMalformedEntry, len(b), MaxEntrySize)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return Entry{}, fmt.Errorf("%w: does not end in a newline", ErrMalformedEntry)
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	if len(lines) != 6 {
		return Entry{}, fmt.Errorf("%w: want 6 lines, got %d", ErrMalformedEntry, len(lines))
	}
	if lines[0] != EntryHeader {
		return Entry{}, fmt.Errorf("%w: first line is %q, want %q", ErrMalformedEntry, lines[0], EntryHeader)
	}
	var e Entry
	var err error
	if e.Origin, err = parseOrigin(lines[1]); err != nil {
		return Entry{}, err
	}
	if e.Size, err = parseCount("input size", lines[2]); err != nil {
		return Entry{}, err
	}
	if e.Hash, err = parseHash("input root hash", lines[3]); err != nil {
		return Entry{}, err
	}
	if e.Root, err = parseHash("map root", lines[4]); err != nil {
		return Entry{}, err
	}
	if e.Objects, err = parseCount("number of objects", lines[5]); err != nil {
		return Entry{}, err
	}
	return e, nil
}

func parseOrigin(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: the origin line is empty", ErrMalformedEntry)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: the origin is not UTF-8", ErrMalformedEntry)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", fmt.Errorf("%w: the origin %q has a space or a control character", ErrMalformedEntry, s)
	}
	return s, nil
}

func parseCount(what, s string) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w: %s %q is not a decimal number without leading zeroes", ErrMalformedEntry, what, s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxCount {
		return 0, fmt.Errorf("%w: %s %q is out of range", ErrMalformedEntry, what, s)
	}
	return n, nil
}

func parseHash(what, s string) ([HashSize]byte, error) {
	var h [HashSize]byte
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != HashSize {
		return h, fmt.Errorf("%w: %s is not %d bytes of standard base64", ErrMalformedEntry, what, HashSize)
	}
	// Strict decoding still accepts non-zero padding bits on some inputs;
	// re-encoding is the one test of canonical form.
	if base64.StdEncoding.EncodeToString(b) != s {
		return h, fmt.Errorf("%w: %s is not canonical base64", ErrMalformedEntry, what)
	}
	copy(h[:], b)
	return h, nil
}

// Package tiles serves a log's read API exactly as c2sp.org/tlog-tiles specifies:
// the checkpoint, Merkle tree tiles and entry bundles, with the spec's content
// types and caching headers, from tessera's LogReader.
package tiles

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadPath is returned for a request path that is not a tlog-tiles resource.
var ErrBadPath = errors.New("not a tlog-tiles path")

// Kind is the kind of resource a path names.
type Kind int

const (
	Checkpoint Kind = iota + 1
	Tile
	EntryBundle
)

// Resource is a parsed tlog-tiles path, relative to the log's prefix.
type Resource struct {
	Kind  Kind
	Level uint64 // tiles only
	Index uint64
	Width uint8 // 0 for a full tile or bundle, else 1..255
}

// maxIndexGroups bounds the number of 3-digit groups in an index: 2^64 has 20
// decimal digits, so 7 groups are enough.
const maxIndexGroups = 7

// ParsePath parses a path relative to a log's prefix, such as "checkpoint",
// "tile/0/x001/234.p/7" or "tile/entries/000". It accepts only the canonical
// encoding of c2sp.org/tlog-tiles.
func ParsePath(p string) (Resource, error) {
	if p == "checkpoint" {
		return Resource{Kind: Checkpoint}, nil
	}
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		return Resource{}, fmt.Errorf("%w: %q", ErrBadPath, p)
	}
	first, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return Resource{}, fmt.Errorf("%w: %q has no tile index", ErrBadPath, p)
	}
	r := Resource{Kind: EntryBundle}
	if first != "entries" {
		// SPEC(tlog-tiles): <L> is a decimal integer between 0 and 63, with no
		// additional leading zeroes.
		l, err := canonicalDecimal(first, 63)
		if err != nil {
			return Resource{}, fmt.Errorf("%w: level %q: %v", ErrBadPath, first, err)
		}
		r = Resource{Kind: Tile, Level: l}
	}
	idx, width, err := parseIndex(rest)
	if err != nil {
		return Resource{}, fmt.Errorf("%w: %q: %v", ErrBadPath, p, err)
	}
	r.Index, r.Width = idx, width
	return r, nil
}

// parseIndex parses "<N>[.p/<W>]" where N is in zero-padded 3-digit groups, all
// but the last prefixed with "x".
func parseIndex(s string) (uint64, uint8, error) {
	var width uint8
	if n, w, ok := strings.Cut(s, ".p/"); ok {
		// SPEC(tlog-tiles): <W> is a decimal integer between 1 and 255, with no
		// additional leading zeroes.
		v, err := canonicalDecimal(w, 255)
		if err != nil || v == 0 {
			return 0, 0, fmt.Errorf("bad partial width %q", w)
		}
		s, width = n, uint8(v)
	}
	groups := strings.Split(s, "/")
	if len(groups) > maxIndexGroups {
		return 0, 0, errors.New("index has too many groups")
	}
	var n uint64
	for i, g := range groups {
		if i < len(groups)-1 {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return 0, 0, fmt.Errorf("index group %q does not start with x", g)
			}
		}
		if len(g) != 3 || strings.Trim(g, "0123456789") != "" {
			return 0, 0, fmt.Errorf("index group %q is not three digits", g)
		}
		d, _ := strconv.ParseUint(g, 10, 64)
		if n > (1<<64-1-d)/1000 {
			return 0, 0, errors.New("index overflows")
		}
		n = n*1000 + d
	}
	// Leading all-zero groups would give one index several paths.
	if len(groups) > 1 && groups[0] == "x000" {
		return 0, 0, errors.New("index has a leading zero group")
	}
	return n, width, nil
}

// canonicalDecimal parses a decimal with no sign and no leading zeroes, at most max.
func canonicalDecimal(s string, max uint64) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New("not a canonical decimal")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, fmt.Errorf("out of range 0..%d", max)
	}
	return v, nil
}

// String returns the canonical path of the resource.
func (r Resource) String() string {
	switch r.Kind {
	case Checkpoint:
		return "checkpoint"
	case Tile:
		return "tile/" + strconv.FormatUint(r.Level, 10) + "/" + formatIndex(r.Index, r.Width)
	case EntryBundle:
		return "tile/entries/" + formatIndex(r.Index, r.Width)
	}
	return ""
}

func formatIndex(n uint64, w uint8) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	if w > 0 {
		s += ".p/" + strconv.Itoa(int(w))
	}
	return s
}

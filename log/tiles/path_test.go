package tiles

import (
	"errors"
	"testing"
)

func TestParsePath(t *testing.T) {
	ok := []struct {
		path string
		want Resource
	}{
		{"checkpoint", Resource{Kind: Checkpoint}},
		{"tile/0/000", Resource{Kind: Tile}},
		{"tile/0/001.p/7", Resource{Kind: Tile, Index: 1, Width: 7}},
		{"tile/63/x001/x234/067", Resource{Kind: Tile, Level: 63, Index: 1234067}},
		{"tile/entries/x001/000.p/255", Resource{Kind: EntryBundle, Index: 1000, Width: 255}},
		{"tile/entries/999", Resource{Kind: EntryBundle, Index: 999}},
		{"tile/1/x018/x446/x744/x073/x709/x551/615", Resource{Kind: Tile, Level: 1, Index: 1<<64 - 1}},
	}
	for _, tc := range ok {
		t.Run(tc.path, func(t *testing.T) {
			got, err := ParsePath(tc.path)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tc.path, err)
			}
			if got != tc.want {
				t.Fatalf("ParsePath(%q) = %+v, want %+v", tc.path, got, tc.want)
			}
			if got.String() != tc.path {
				t.Fatalf("String() = %q, want %q", got.String(), tc.path)
			}
		})
	}
	bad := []string{
		"", "checkpoint/", "/checkpoint", "tile", "tile/", "tile/0", "tile/0/", "tile/00/000",
		"tile/64/000", "tile/-1/000", "tile/+1/000", "tile/0/0", "tile/0/0000", "tile/0/x000/001",
		"tile/0/001/002", "tile/0/x01/002", "tile/0/abc", "tile/0/000.p/0", "tile/0/000.p/256",
		"tile/0/000.p/07", "tile/0/000.p/", "tile/0/000.p", "tile/entries/", "tile/entries/1",
		"tile/1/x018/x446/x744/x073/x709/x551/616", "tile/0/x001/x001/x001/x001/x001/x001/x001/001",
		"tile/0/000.p/7/8", "tile/0/x1000/000", "tiles/0/000", "tile/0/ 000",
	}
	for _, p := range bad {
		t.Run("bad/"+p, func(t *testing.T) {
			if r, err := ParsePath(p); !errors.Is(err, ErrBadPath) {
				t.Fatalf("ParsePath(%q) = %+v, %v; want ErrBadPath", p, r, err)
			}
		})
	}
}

// FuzzParsePath checks that the parser never panics and that every accepted path
// is canonical: it re-encodes to the very same string.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"checkpoint", "tile/0/000", "tile/entries/x001/234.p/5", "tile/1/x000/000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r, err := ParsePath(p)
		if err != nil {
			return
		}
		if r.String() != p {
			t.Fatalf("ParsePath(%q) accepted a non-canonical path; re-encodes as %q", p, r.String())
		}
	})
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/transparency-dev/tessera/api/layout"

	"github.com/tabularium/tabularium/personality/rules"
)

// ObjectSource returns an object's state as a log server serves it: nil and no
// error for an object the server does not know.
type ObjectSource interface {
	Object(ctx context.Context, id string) (*rules.Object, error)
}

// maxBundleSize bounds an entry bundle: 256 entries of at most 64 KiB, each
// with its two-byte length.
const maxBundleSize = layout.EntryBundleWidth * (2 + 64<<10)

// maxObjectSize bounds an object's JSON state.
const maxObjectSize = 16 << 20

// ReadEntryBundle returns an entry bundle; a missing partial bundle falls back
// to the full one, as for tiles. It implements LogReader.
func (f *Fetcher) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	b, err := f.get(ctx, layout.EntriesPath(index, p), maxBundleSize)
	if p != 0 && errors.Is(err, os.ErrNotExist) {
		return f.get(ctx, layout.EntriesPath(index, 0), maxBundleSize)
	}
	return b, err
}

// Object returns the state of object id as the server serves it at
// GET /logs/{name}/objects/{id}, or nil if the server knows no such object.
// It implements ObjectSource.
func (f *Fetcher) Object(ctx context.Context, id string) (*rules.Object, error) {
	segs := strings.Split(id, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	b, err := f.get(ctx, "objects/"+strings.Join(segs, "/"), maxObjectSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var o rules.Object
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("object %s: %w", id, err)
	}
	return &o, nil
}

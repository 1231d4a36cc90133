package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
)

// IntegratedSize returns the number of entries integrated into the tree. It may be
// ahead of the published checkpoint.
func (l *Log) IntegratedSize(ctx context.Context) (uint64, error) {
	n, err := l.reader.IntegratedSize(ctx)
	if err != nil {
		return 0, fmt.Errorf("integrated size of %s: %w", l.origin, err)
	}
	return n, nil
}

// ReadEntries calls fn, in index order, for every integrated entry with index in
// [from, to). It stops at the first error fn returns, and returns it.
func (l *Log) ReadEntries(ctx context.Context, from, to uint64, fn func(index uint64, data []byte) error) error {
	size, err := l.IntegratedSize(ctx)
	if err != nil {
		return err
	}
	if to > size {
		return fmt.Errorf("read entries of %s: %d is beyond the integrated size %d", l.origin, to, size)
	}
	for i := from; i < to; {
		bundle := i / layout.EntryBundleWidth
		raw, err := l.reader.ReadEntryBundle(ctx, bundle, layout.PartialTileSize(0, bundle, size))
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("entry bundle %d of %s is missing: %w", bundle, l.origin, err)
		}
		if err != nil {
			return fmt.Errorf("read entry bundle %d of %s: %w", bundle, l.origin, err)
		}
		var eb api.EntryBundle
		if err := eb.UnmarshalText(raw); err != nil {
			return fmt.Errorf("entry bundle %d of %s: %w", bundle, l.origin, err)
		}
		for ; i < to && i/layout.EntryBundleWidth == bundle; i++ {
			j := i % layout.EntryBundleWidth
			if j >= uint64(len(eb.Entries)) {
				return fmt.Errorf("entry bundle %d of %s has %d entries, want entry %d", bundle, l.origin, len(eb.Entries), j)
			}
			if err := fn(i, eb.Entries[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

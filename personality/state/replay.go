package state

import (
	"context"
	"fmt"

	"github.com/tabularium/tabularium/personality/rules"
)

// Reader reads a log's integrated entries in index order; engine.Log is one.
// ReadEntries calls fn for each entry in [from, to) and stops at fn's first error.
type Reader interface {
	ReadEntries(ctx context.Context, from, to uint64, fn func(index uint64, data []byte) error) error
}

// CatchUp replays the log's entries from the index's next position up to (not
// including) to. Refused entries are recorded with Reject and skipped. It returns
// an error only if the log or the index cannot be read or written, or another
// writer moved the index meanwhile (ErrStale); the index is then consistent up
// to the last entry applied.
func (s *Store) CatchUp(ctx context.Context, cfg *rules.Config, log Reader, to uint64) error {
	return s.CatchUpVerdicts(ctx, cfg, log, to, nil)
}

// Verdict receives the outcome of one replayed entry: refusal is nil if the
// rules accepted it.
type Verdict func(index uint64, refusal *rules.Error)

// CatchUpVerdicts is CatchUp that also reports, to verdict if it is not nil, the
// outcome of every entry it replays once the index has recorded it. A registry
// uses it to answer the submitters of entries it could not judge live.
func (s *Store) CatchUpVerdicts(ctx context.Context, cfg *rules.Config, log Reader, to uint64, verdict Verdict) error {
	if verdict == nil {
		verdict = func(uint64, *rules.Error) {}
	}
	meta, err := s.Meta()
	if err != nil {
		return err
	}
	if meta.Size > to {
		return fmt.Errorf("state index is at position %d, beyond the log's %d entries: it belongs to another log or the log lost entries", meta.Size, to)
	}
	if meta.Size == to {
		return nil
	}
	return log.ReadEntries(ctx, meta.Size, to, func(index uint64, data []byte) error {
		ch, rerr := rules.ApplyRaw(cfg, s, meta, data, index)
		if rerr != nil {
			if rerr.Code == rules.CodeStateUnavailable {
				return fmt.Errorf("replay entry %d: %s", index, rerr.Message)
			}
			if err := s.Reject(index, meta, rerr); err != nil {
				return err
			}
			meta = rules.Skip(meta, index)
			verdict(index, rerr)
			return nil
		}
		if err := s.CommitAllAfter(meta, []*rules.Changes{ch}); err != nil {
			return fmt.Errorf("replay entry %d: %w", index, err)
		}
		meta = ch.Meta
		verdict(index, nil)
		return nil
	})
}

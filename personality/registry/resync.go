package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/rules"
)

// outcome is what the log did with a pending entry.
type outcome struct {
	idx engine.Index
	err error
}

// resync restores the chain after it broke. Every pending future resolves; the
// state index replays the log up to its integrated size, judging every entry at
// its real position exactly as an auditor would; each pending submitter is
// answered from that; and the overlay restarts empty on the index's state. It
// reports whether it succeeded; if not, every pending submitter gets the error,
// the registry stays dirty and the committer stops, and the next submission
// tries again.
func (r *Registry) resync(items []*item) bool {
	start := time.Now()
	out := make([]outcome, len(items))
	var need uint64 // the log size that covers every pending entry
	for i, it := range items {
		<-it.resolved
		out[i].idx, out[i].err = it.idx, it.ferr
		if out[i].err == nil {
			need = max(need, out[i].idx.Index+1)
		}
	}
	verdicts := map[uint64]*rules.Error{}
	meta, err := r.catchUp(need, func(index uint64, refusal *rules.Error) { verdicts[index] = refusal })
	var answers []func()
	if err == nil {
		answers, err = r.answers(items, out, verdicts)
	}
	r.mu.Lock()
	r.gen.Add(1) // the replay wrote the index
	if err != nil {
		r.lastErr = err
		r.running = false
	} else {
		r.overlay = map[string]pending{}
		r.meta = meta
		r.dirty = false
	}
	close(r.resumed)
	r.resumed = nil
	r.mu.Unlock()

	if err != nil {
		r.opts.Logger.Error("registry resync failed; the next submission retries", "log", r.cfg.Log, "err", err)
		for i, it := range items {
			if out[i].err != nil {
				it.answer(nil, out[i].err) // not in the log
			} else {
				it.answer(nil, fmt.Errorf("registry %s could not judge entry %d at its position in the log: %w", r.cfg.Log, out[i].idx.Index, err))
			}
		}
		return false
	}
	r.opts.Logger.Info("registry resynced with the log", "log", r.cfg.Log, "size", meta.Size, "pending", len(items), "took", time.Since(start))
	for _, a := range answers {
		a()
	}
	return true
}

// answers derives each pending submitter's answer from its outcome and the
// replay's verdicts.
func (r *Registry) answers(items []*item, out []outcome, verdicts map[uint64]*rules.Error) ([]func(), error) {
	answers := make([]func(), len(items))
	for i, it := range items {
		o := out[i]
		rc := &Receipt{Index: o.idx.Index, EntryHash: it.e.Hash, Duplicate: o.idx.Dup}
		var err error
		switch {
		case o.err != nil:
			rc, err = nil, o.err
		case o.idx.Dup:
			// Already logged: judged at its first position, never applied twice.
		default:
			refusal, ok := verdicts[o.idx.Index]
			if !ok {
				stored, serr := r.store.RejectedAt(o.idx.Index)
				if serr != nil {
					return nil, serr
				}
				if stored != nil {
					refusal = &rules.Error{Code: stored.Code, Message: stored.Message, Class: rules.ClassConflict}
				}
			}
			if refusal != nil {
				rc, err = nil, fmt.Errorf("%w: entry %d: %w", ErrRejectedOnReplay, o.idx.Index, refusal)
			}
		}
		answers[i] = func() { it.answer(rc, err) }
	}
	return answers, nil
}

// catchUp waits until the log has integrated at least need entries, replays
// into the state index every integrated entry it has not applied, and returns
// the index's Meta.
func (r *Registry) catchUp(need uint64, verdict func(uint64, *rules.Error)) (rules.Meta, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CatchUpTimeout)
	defer cancel()
	for {
		size, err := r.log.IntegratedSize(ctx)
		if err != nil {
			return rules.Meta{}, err
		}
		if size >= need {
			if err := r.store.CatchUpVerdicts(ctx, &r.cfg, r.log, size, verdict); err != nil {
				return rules.Meta{}, err
			}
			return r.store.Meta()
		}
		select {
		case <-ctx.Done():
			return rules.Meta{}, fmt.Errorf("%w: the log has not integrated %d entries within %s", engine.ErrPushback, need, r.opts.CatchUpTimeout)
		case <-time.After(r.opts.CatchUpPoll):
		}
	}
}

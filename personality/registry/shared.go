package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// SharedLog is a log that other front ends append to as well; *engine.Log
// implements it. NextIndex is the index the next entry sequenced will take,
// counting entries sequenced but not yet integrated.
type SharedLog interface {
	Log
	NextIndex(ctx context.Context) (uint64, error)
}

// shared is the write path of a registry whose log and state index other
// front ends share (the scale-out tier). One goroutine per front end takes
// the submissions waiting here in groups; for each group it holds the index's
// database lock (state.Store.Lock) while it
//
//  1. catches the shared index up with the log, to the log's NextIndex;
//  2. judges the group, in order, against the index plus the group's own
//     earlier entries, and hands the accepted ones to the log;
//  3. waits until the log has assigned their indices; and
//  4. if they took exactly the indices they were judged at, commits their
//     changes to the index in one transaction that also checks the index did
//     not move (state.ErrStale); otherwise it replays the log into the index,
//     judging every entry at its real position, and answers from that.
//
// Conflicting entries for one object are therefore judged one after the other
// against state that includes every earlier one, whichever front end took
// them; and the index is a replay of the log. The lock serialises whole
// groups, so the front ends add capacity for parsing and verifying
// signatures, but not for sequencing: one group per log is in flight at a
// time, across all front ends.
type shared struct {
	r   *Registry
	log SharedLog
	in  chan *item
}

// OpenShared returns a registry over a log and a state index shared with
// other front ends (see shared). It catches the index up with the log, under
// the lock, before it returns.
func OpenShared(ctx context.Context, cfg rules.Config, log SharedLog, store *state.Store, opts Options) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Registry{cfg: cfg, log: log, store: store, opts: opts.withDefaults(), overlay: map[string]pending{}}
	s := &shared{r: r, log: log, in: make(chan *item, r.opts.MaxGroup)}
	r.shared = s
	unlock, err := store.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if r.meta, err = s.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("catch up state of %s: %w", cfg.Log, err)
	}
	go s.run()
	return r, nil
}

// submit queues e for the next group, with its precheck refusal if any.
func (s *shared) submit(ctx context.Context, e *entry.Entry, pre *refusal) (*item, error) {
	it := &item{e: e, pre: pre, done: make(chan struct{})}
	select {
	case s.in <- it:
		return it, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run takes the waiting submissions in groups, for ever.
func (s *shared) run() {
	for first := range s.in {
		group := []*item{first}
	more:
		for len(group) < s.r.opts.MaxGroup {
			select {
			case it := <-s.in:
				group = append(group, it)
			default:
				break more
			}
		}
		s.round(group)
	}
}

// round runs steps 1 to 4 for a group and answers every submitter in it.
func (s *shared) round(group []*item) {
	ctx, cancel := context.WithTimeout(context.Background(), s.r.opts.CatchUpTimeout)
	defer cancel()
	fail := func(err error) {
		for _, it := range group {
			it.answer(nil, err)
		}
	}
	unlock, err := s.r.store.Lock(ctx)
	if err != nil {
		fail(fmt.Errorf("%w: registry %s: %w", engine.ErrPushback, s.r.cfg.Log, err))
		return
	}
	defer unlock()
	start, err := s.catchUp(ctx)
	if err != nil {
		fail(fmt.Errorf("%w: registry %s cannot follow its log: %w", engine.ErrPushback, s.r.cfg.Log, err))
		return
	}
	enqueued := s.judge(start, group)
	if len(enqueued) == 0 {
		return
	}
	chs := make([]*rules.Changes, len(enqueued))
	inPlace := true
	for i, it := range enqueued {
		it.idx, it.ferr = it.future()
		inPlace = inPlace && it.ferr == nil && !it.idx.Dup && it.idx.Index == it.index
		chs[i] = it.ch
	}
	if inPlace {
		err := s.r.store.CommitAllAfter(start, chs)
		if err == nil {
			for _, it := range enqueued {
				it.answer(&Receipt{Index: it.index, EntryHash: it.e.Hash}, nil)
			}
			return
		}
		s.r.opts.Logger.Warn("shared registry could not commit its group; replaying the log", "log", s.r.cfg.Log, "err", err)
	} else {
		s.r.opts.Logger.Warn("shared registry's entries did not take the expected indices; replaying the log", "log", s.r.cfg.Log)
	}
	s.replay(ctx, enqueued)
}

// judge applies the rules to the group in order, against the index plus the
// group's own accepted entries, answers the refused, hands the accepted to the
// log, and returns them.
func (s *shared) judge(meta rules.Meta, group []*item) []*item {
	ov := groupOverlay{objects: map[string]*rules.Object{}, store: s.r.store}
	start := meta.Size
	inGroup := func(id string) bool { _, ok := ov.objects[id]; return ok }
	var enqueued []*item
	for _, it := range group {
		if it.pre != nil {
			if rerr := confirm(&s.r.cfg, ov, it.e, it.pre, it.pre.version == start, inGroup); rerr != nil {
				it.answer(nil, rerr)
				continue
			}
		}
		ch, rerr := rules.Apply(&s.r.cfg, ov, meta, it.e, meta.Size)
		if rerr != nil {
			it.answer(nil, rerr)
			continue
		}
		f, err := s.log.Enqueue(context.Background(), it.e.Raw)
		if err != nil {
			it.answer(nil, err) // refused at once: no index taken
			continue
		}
		it.index, it.ch, it.future = meta.Size, ch, f
		meta = ch.Meta
		for _, o := range ch.Objects {
			ov.objects[o.ID] = o
		}
		enqueued = append(enqueued, it)
	}
	return enqueued
}

// catchUp brings the index to the log's NextIndex: it waits until the log
// has integrated the entries that other front ends sequenced but did not
// commit (one that died, say), and replays them. It returns the index's Meta.
func (s *shared) catchUp(ctx context.Context) (rules.Meta, error) {
	for {
		meta, err := s.r.store.Meta()
		if err != nil {
			return meta, err
		}
		next, err := s.log.NextIndex(ctx)
		if err != nil {
			return meta, err
		}
		if meta.Size == next {
			return meta, nil
		}
		if meta.Size > next {
			return meta, fmt.Errorf("state index is at position %d, beyond the log's %d entries: it belongs to another log or the log lost entries", meta.Size, next)
		}
		if _, err := s.awaitIntegrated(ctx, next, nil); err != nil {
			return meta, err
		}
	}
}

// awaitIntegrated waits until the log has integrated need entries, then
// replays into the index every integrated entry it lacks, reporting each
// verdict, and returns the index's Meta.
func (s *shared) awaitIntegrated(ctx context.Context, need uint64, verdict state.Verdict) (rules.Meta, error) {
	for {
		size, err := s.log.IntegratedSize(ctx)
		if err != nil {
			return rules.Meta{}, err
		}
		if size >= need {
			if err := s.r.store.CatchUpVerdicts(ctx, &s.r.cfg, s.log, size, verdict); err != nil {
				return rules.Meta{}, err
			}
			return s.r.store.Meta()
		}
		select {
		case <-ctx.Done():
			return rules.Meta{}, fmt.Errorf("the log has not integrated %d entries in time: %w", need, ctx.Err())
		case <-time.After(s.r.opts.CatchUpPoll):
		}
	}
}

// replay judges the group's entries at the positions the log gave them, by
// replaying the log into the index as an auditor would, and answers them.
func (s *shared) replay(ctx context.Context, items []*item) {
	out := make([]outcome, len(items))
	var need uint64
	for i, it := range items {
		out[i] = outcome{idx: it.idx, err: it.ferr}
		if it.ferr == nil {
			need = max(need, it.idx.Index+1)
		}
	}
	verdicts := map[uint64]*rules.Error{}
	_, err := s.awaitIntegrated(ctx, need, func(index uint64, refusal *rules.Error) { verdicts[index] = refusal })
	var answers []func()
	if err == nil {
		answers, err = s.r.answers(items, out, verdicts)
	}
	if err != nil {
		s.r.opts.Logger.Error("shared registry replay failed; the next group retries", "log", s.r.cfg.Log, "err", err)
		for i, it := range items {
			if out[i].err != nil {
				it.answer(nil, out[i].err)
			} else {
				it.answer(nil, fmt.Errorf("registry %s could not judge entry %d at its position in the log: %w", s.r.cfg.Log, out[i].idx.Index, err))
			}
		}
		return
	}
	for _, a := range answers {
		a()
	}
}

// groupOverlay is the state a group's entry is judged against: the group's
// earlier entries over the shared index.
type groupOverlay struct {
	objects map[string]*rules.Object
	store   *state.Store
}

func (o groupOverlay) Object(id string) (*rules.Object, error) {
	if obj, ok := o.objects[id]; ok {
		return obj, nil
	}
	return o.store.Object(id)
}

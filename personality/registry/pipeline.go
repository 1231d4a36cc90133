package registry

import (
	"context"
	"fmt"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// item is one pending entry: accepted against the overlay and handed to the log,
// its verdict not yet given.
type item struct {
	e      *entry.Entry
	pre    *refusal // the precheck's refusal, to confirm where e is judged (shared)
	index  uint64   // the index it was judged at
	ch     *rules.Changes
	future engine.Future

	resolved chan struct{} // closed once idx and ferr hold the future's outcome
	idx      engine.Index
	ferr     error

	done chan struct{} // closed once rc or err is set
	rc   *Receipt
	err  error
}

// resolve waits for the future, so that the committer sees which items are
// resolved without blocking on any but the first.
func (it *item) resolve() {
	it.idx, it.ferr = it.future()
	close(it.resolved)
}

func (it *item) isResolved() bool {
	select {
	case <-it.resolved:
		return true
	default:
		return false
	}
}

func (it *item) answer(rc *Receipt, err error) {
	it.rc, it.err = rc, err
	close(it.done)
}

// pending is an object's latest state written by a pending entry, and that
// entry's index.
type pending struct {
	obj   *rules.Object
	index uint64
}

// overlay is the state the next entry is judged against: pending objects over
// the state index. It is read with r.mu held.
type overlay struct{ r *Registry }

func (o overlay) Object(id string) (*rules.Object, error) {
	if p, ok := o.r.overlay[id]; ok {
		return p.obj, nil
	}
	return o.r.store.Object(id)
}

// enqueue is the serialisation point: it judges e at the next expected index
// against the overlay and, if the rules accept it, hands it to the log and
// records it as pending.
// A precheck refusal (pre) is confirmed there first.
func (r *Registry) enqueue(ctx context.Context, e *entry.Entry, pre *refusal) (*item, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.dirty {
		if r.resumed == nil {
			// The last resync failed and nobody is retrying: start one.
			r.resumed = make(chan struct{})
			r.startCommitter()
		}
		resumed := r.resumed
		r.mu.Unlock()
		select {
		case <-resumed:
		case <-ctx.Done():
			r.mu.Lock()
			return nil, ctx.Err()
		}
		r.mu.Lock()
		if r.dirty && r.resumed == nil {
			return nil, fmt.Errorf("registry %s cannot follow its log: %w", r.cfg.Log, r.lastErr)
		}
	}
	if pre != nil {
		inOverlay := func(id string) bool { _, ok := r.overlay[id]; return ok }
		if rerr := confirm(&r.cfg, overlay{r}, e, pre, r.gen.Load() == pre.version, inOverlay); rerr != nil {
			return nil, rerr
		}
	}
	ch, rerr := rules.Apply(&r.cfg, overlay{r}, r.meta, e, r.meta.Size)
	if rerr != nil {
		return nil, rerr
	}
	// Once the log has the entry, it must be judged and applied even if the
	// submitter goes away. A refusal known at once (pushback, too large, closed)
	// took no index: the chain goes on unbroken.
	future, err := r.log.Enqueue(context.WithoutCancel(ctx), e.Raw)
	if err != nil {
		return nil, err
	}
	it := &item{e: e, index: r.meta.Size, ch: ch, resolved: make(chan struct{}), done: make(chan struct{}),
		future: future}
	go it.resolve()
	r.queue = append(r.queue, it)
	r.meta = ch.Meta
	for _, o := range ch.Objects {
		r.overlay[o.ID] = pending{obj: o, index: it.index}
	}
	r.startCommitter()
	return it, nil
}

// startCommitter starts the committer goroutine unless it runs. r.mu is held.
func (r *Registry) startCommitter() {
	if !r.running {
		r.running = true
		go r.commit()
	}
}

// commit is the committer goroutine: it gives the pending entries their
// verdicts in index order, and resyncs when the chain breaks. It returns when
// nothing is pending.
func (r *Registry) commit() {
	for {
		r.mu.Lock()
		if r.dirty {
			items := r.queue
			r.queue = nil
			r.mu.Unlock()
			if !r.resync(items) {
				return
			}
			continue
		}
		if len(r.queue) == 0 {
			r.queue = nil
			r.running = false
			r.mu.Unlock()
			return
		}
		head := r.queue[0]
		r.mu.Unlock()
		<-head.resolved
		// Commit together every item resolved by now: what the log sequenced
		// in the same batch.
		r.mu.Lock()
		n := 1
		for n < len(r.queue) && n < r.opts.MaxGroup && r.queue[n].isResolved() {
			n++
		}
		group := r.queue[:n]
		r.mu.Unlock()
		r.commitGroup(group)
	}
}

// commitGroup, given resolved items, commits them to the state index in one
// transaction and answers their submitters if each future resolved to its
// expected index. Otherwise it marks the chain broken.
func (r *Registry) commitGroup(group []*item) {
	chs := make([]*rules.Changes, len(group))
	for i, it := range group {
		if it.ferr != nil || it.idx.Dup || it.idx.Index != it.index {
			r.breakChain("entry expected at %d: got %+v, %v", it.index, it.idx, it.ferr)
			return
		}
		chs[i] = it.ch
	}
	if err := r.store.CommitAll(chs); err != nil {
		// The log holds the entries; the resync replays them from there.
		r.breakChain("commit entries %d to %d: %v", group[0].index, group[len(group)-1].index, err)
		return
	}
	r.mu.Lock()
	r.gen.Add(1)
	r.queue = r.queue[len(group):]
	for _, it := range group {
		for _, o := range it.ch.Objects {
			if p := r.overlay[o.ID]; p.index == it.index {
				delete(r.overlay, o.ID) // the state index has caught up with it
			}
		}
	}
	r.mu.Unlock()
	for _, it := range group {
		it.answer(&Receipt{Index: it.index, EntryHash: it.e.Hash}, nil)
	}
}

// breakChain stops accepting entries until a resync.
func (r *Registry) breakChain(format string, args ...any) {
	r.opts.Logger.Warn("registry pipeline broken; resyncing with the log", "log", r.cfg.Log, "cause", fmt.Sprintf(format, args...))
	r.mu.Lock()
	r.dirty = true
	if r.resumed == nil {
		r.resumed = make(chan struct{})
	}
	r.mu.Unlock()
}

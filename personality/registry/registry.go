package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tlog "github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// Log is what a registry needs of its log; *engine.Log implements it.
//
// Add returns once the entry's index is durably assigned, with
// engine.ErrPushback when overloaded, engine.ErrTooLarge, or engine.ErrClosed.
// AwaitPublished blocks until a published checkpoint covers index.
// IntegratedSize and ReadEntries read the integrated tree. All are safe for
// concurrent use.
type Log interface {
	Add(ctx context.Context, data []byte) (engine.Index, error)
	AwaitPublished(ctx context.Context, index uint64) ([]byte, error)
	IntegratedSize(ctx context.Context) (uint64, error)
	ReadEntries(ctx context.Context, from, to uint64, fn func(index uint64, data []byte) error) error
}

// Options tune a registry. The zero value selects the defaults.
type Options struct {
	// MaxFutureSkew is how far ahead of the server clock an entry's time may be
	// (default 5 minutes): log time only moves forward, so a far-future entry
	// would cut short every key recovery's waiting period.
	MaxFutureSkew time.Duration
	// Now is the clock for that check; nil means time.Now. The rules never read it.
	Now func() time.Time
	// CatchUpPoll is how often a submission waits for the log to integrate
	// entries it must replay first (default 50ms).
	CatchUpPoll time.Duration
}

// Registry is one registry. Its methods are safe for concurrent use.
type Registry struct {
	cfg   rules.Config
	log   Log
	store *state.Store
	opts  Options
	mu    sync.Mutex // the serialisation point; see the package comment
}

// Open returns a registry over log and store, after catching the store up with
// every entry the log has integrated.
func Open(ctx context.Context, cfg rules.Config, log Log, store *state.Store, opts Options) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxFutureSkew == 0 {
		opts.MaxFutureSkew = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CatchUpPoll == 0 {
		opts.CatchUpPoll = 50 * time.Millisecond
	}
	r := &Registry{cfg: cfg, log: log, store: store, opts: opts}
	size, err := log.IntegratedSize(ctx)
	if err != nil {
		return nil, err
	}
	if err := store.CatchUp(ctx, &r.cfg, log, size); err != nil {
		return nil, fmt.Errorf("catch up state of %s: %w", cfg.Log, err)
	}
	return r, nil
}

// Config returns the registry's rule configuration.
func (r *Registry) Config() rules.Config { return r.cfg }

// Receipt is the answer to an accepted submission.
type Receipt struct {
	Index      uint64
	LeafHash   [32]byte // RFC 6962 leaf hash of the entry
	EntryHash  [32]byte // SHA-256 of the entry; the next entry of the object names it in prev
	Duplicate  bool     // the identical entry was already in the log at Index
	Checkpoint []byte   // the published checkpoint covering Index, if asked for
}

// ErrRejectedOnReplay wraps the refusal of an entry that the log accepted at an
// unexpected position (something else appended first) and that the rules then
// refused there. The entry is in the log, recorded as rejected, without effect.
var ErrRejectedOnReplay = errors.New("appended, but refused at its position in the log")

// Submit validates raw against the registry's rules and current state, appends
// it, applies it, and returns its receipt. A refusal is a *rules.Error; log
// errors are engine's sentinels, wrapped. With wait set it also waits until a
// published checkpoint covers the entry.
func (r *Registry) Submit(ctx context.Context, raw []byte, wait bool) (*Receipt, error) {
	e, err := entry.Parse(raw)
	if err != nil {
		return nil, rules.FromParse(err)
	}
	if limit := r.opts.Now().Add(r.opts.MaxFutureSkew).Unix(); e.Payload.Time > limit {
		return nil, &rules.Error{Code: rules.CodeTimeInFuture, Class: rules.ClassMalformed,
			Message: fmt.Sprintf("the entry's time %d is more than %s ahead of the server's clock; check the signers' clocks", e.Payload.Time, r.opts.MaxFutureSkew)}
	}
	rc, err := r.append(ctx, e)
	if err != nil {
		return nil, err
	}
	if wait {
		if rc.Checkpoint, err = r.log.AwaitPublished(ctx, rc.Index); err != nil {
			return rc, err
		}
	}
	return rc, nil
}

func (r *Registry) append(ctx context.Context, e *entry.Entry) (*Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	meta, err := r.store.Meta()
	if err != nil {
		return nil, err
	}
	if _, rerr := rules.Apply(&r.cfg, r.store, meta, e, meta.Size); rerr != nil {
		return nil, rerr
	}
	// Once the log has the entry, its state must be applied even if the client
	// goes away.
	ctx = context.WithoutCancel(ctx)
	idx, err := r.log.Add(ctx, e.Raw)
	if err != nil {
		return nil, err
	}
	rc := &Receipt{Index: idx.Index, LeafHash: tlog.LeafHash(e.Raw), EntryHash: e.Hash, Duplicate: idx.Dup}
	if idx.Dup {
		return rc, nil
	}
	if idx.Index != meta.Size {
		// Something else appended before this entry: replay up to it, then
		// judge the entry at its real position, exactly as a replay will.
		if err := r.catchUp(ctx, idx.Index); err != nil {
			return nil, err
		}
		if meta, err = r.store.Meta(); err != nil {
			return nil, err
		}
	}
	ch, rerr := rules.Apply(&r.cfg, r.store, meta, e, idx.Index)
	if rerr != nil {
		if err := r.store.Reject(idx.Index, meta, rerr); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: entry %d: %w", ErrRejectedOnReplay, idx.Index, rerr)
	}
	if err := r.store.Commit(ch); err != nil {
		return nil, err
	}
	return rc, nil
}

// catchUp waits until the log has integrated every entry before index, and
// replays those the state has not applied.
func (r *Registry) catchUp(ctx context.Context, index uint64) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		size, err := r.log.IntegratedSize(ctx)
		if err != nil {
			return err
		}
		if size >= index {
			return r.store.CatchUp(ctx, &r.cfg, r.log, index)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.opts.CatchUpPoll):
		}
	}
}

// Object returns the state of one object, or nil if it does not exist.
func (r *Registry) Object(id string) (*rules.Object, error) { return r.store.Object(id) }

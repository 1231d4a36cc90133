package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	tlog "github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// Log is what a registry needs of its log; *engine.Log implements it.
//
// Enqueue hands an entry to the sequencer and returns at once. Entries enqueued
// one after another by a single caller, with no other writer, must be assigned
// increasing indices in call order unless a future resolves to an error. The
// future resolves once the index is durably assigned, or to engine.ErrPushback,
// engine.ErrTooLarge, engine.ErrClosed or another error; it may be called many
// times, from any goroutine. AwaitPublished blocks until a published checkpoint
// covers index. IntegratedSize and ReadEntries read the integrated tree. All are
// safe for concurrent use.
type Log interface {
	Enqueue(ctx context.Context, data []byte) (engine.Future, error)
	AwaitPublished(ctx context.Context, index uint64) ([]byte, error)
	IntegratedSize(ctx context.Context) (uint64, error)
	ReadEntries(ctx context.Context, from, to uint64, fn func(index uint64, data []byte) error) error
}

// DefaultMaxSignatures is the default of Options.MaxSignatures: twice what the
// busiest entry of the land registry needs (a transfer between two co-owners
// and two buyers with a notary and two pledgees has seven).
const DefaultMaxSignatures = 16

// Options tune a registry. The zero value selects the defaults.
type Options struct {
	// MaxFutureSkew is how far ahead of the server clock an entry's time may be
	// (default 5 minutes): log time only moves forward, so a far-future entry
	// would cut short every key recovery's waiting period.
	MaxFutureSkew time.Duration
	// Now is the clock for that check; nil means time.Now. The rules never read it.
	Now func() time.Time
	// CatchUpPoll is how often a resync waits for the log to integrate the
	// entries it must replay (default 50ms).
	CatchUpPoll time.Duration
	// CatchUpTimeout bounds one resync's wait for the log (default 1 minute).
	CatchUpTimeout time.Duration
	// MaxGroup is the most entries committed to the state index in one
	// transaction (default 1024).
	MaxGroup int
	// MaxSignatures is the most signatures an entry may carry (default
	// DefaultMaxSignatures); Submit refuses one with more before it verifies
	// any. It is an admission limit, not a rule: entries already in the log
	// are replayed whatever it is, so it may change at any time.
	MaxSignatures int
	// Logger receives resyncs and their failures; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxFutureSkew == 0 {
		o.MaxFutureSkew = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CatchUpPoll == 0 {
		o.CatchUpPoll = 50 * time.Millisecond
	}
	if o.CatchUpTimeout == 0 {
		o.CatchUpTimeout = time.Minute
	}
	if o.MaxGroup <= 0 {
		o.MaxGroup = 1024
	}
	if o.MaxSignatures <= 0 {
		o.MaxSignatures = DefaultMaxSignatures
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Registry is one registry. Its methods are safe for concurrent use.
type Registry struct {
	cfg   rules.Config
	log   Log
	store *state.Store
	opts  Options

	mu sync.Mutex // the serialisation point; see the package comment
	// meta is the Meta after every pending entry: meta.Size is the index the
	// next accepted entry is expected at.
	meta rules.Meta
	// overlay holds, by object, the latest state written by a pending entry.
	overlay map[string]pending
	// queue holds the pending entries in index order.
	queue []*item
	// running is set while the committer goroutine runs.
	running bool
	// dirty is set when the chain is broken: meta and overlay no longer follow
	// the log and nothing is accepted until a resync succeeds. resumed, when not
	// nil, is closed at the end of the resync under way; lastErr is why the last
	// one failed.
	dirty   bool
	resumed chan struct{}
	lastErr error

	// shared, if set, replaces the pipeline: the log and the index have
	// other writers (OpenShared).
	shared *shared

	// gen counts the changes of the state index under the overlay (group
	// commits and resyncs); it changes with r.mu held. See precheck.
	gen atomic.Uint64
}

// Open returns a registry over log and store, after catching the store up with
// every entry the log has integrated.
func Open(ctx context.Context, cfg rules.Config, log Log, store *state.Store, opts Options) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	r := &Registry{cfg: cfg, log: log, store: store, opts: opts, overlay: map[string]pending{}}
	size, err := log.IntegratedSize(ctx)
	if err != nil {
		return nil, err
	}
	if err := store.CatchUp(ctx, &r.cfg, log, size); err != nil {
		return nil, fmt.Errorf("catch up state of %s: %w", cfg.Log, err)
	}
	if r.meta, err = store.Meta(); err != nil {
		return nil, err
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
// unexpected position (something else appended first, or the pipeline broke)
// and that the rules then refused there. The entry is in the log, recorded as
// rejected, without effect.
var ErrRejectedOnReplay = errors.New("appended, but refused at its position in the log")

// Submit validates raw against the registry's rules and current state, appends
// it, applies it, and returns its receipt once the state index holds it. A
// refusal is a *rules.Error; log errors are engine's sentinels, wrapped. With
// wait set it also waits until a published checkpoint covers the entry.
//
// If ctx ends after the entry was handed to the log, Submit returns ctx's error
// but the entry is still sequenced and judged.
func (r *Registry) Submit(ctx context.Context, raw []byte, wait bool) (*Receipt, error) {
	// Outside the serialisation point: decoding, then the entry's
	// authorisation against the state index — before any cryptography, so
	// that an entry no signature could make acceptable (throwaway signers,
	// a rotation of a key with no standing) costs no verification — and then
	// verifying every signature.
	e, err := entry.Decode(raw, r.opts.MaxSignatures)
	if err != nil {
		return nil, rules.FromParse(err)
	}
	if limit := r.opts.Now().Add(r.opts.MaxFutureSkew).Unix(); e.Payload.Time > limit {
		return nil, &rules.Error{Code: rules.CodeTimeInFuture, Class: rules.ClassMalformed,
			Message: fmt.Sprintf("the entry's time %d is more than %s ahead of the server's clock; check the signers' clocks", e.Payload.Time, r.opts.MaxFutureSkew)}
	}
	pre := r.precheck(e)
	if pre == nil {
		if err := e.Verify(); err != nil {
			return nil, rules.FromParse(err)
		}
	}
	var it *item
	if r.shared != nil {
		it, err = r.shared.submit(ctx, e, pre)
	} else {
		it, err = r.enqueue(ctx, e, pre)
	}
	if err != nil {
		return nil, err
	}
	select {
	case <-it.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("await the verdict on the entry: %w", ctx.Err())
	}
	if it.err != nil {
		return nil, it.err
	}
	rc := *it.rc
	rc.LeafHash = tlog.LeafHash(e.Raw)
	if wait {
		if rc.Checkpoint, err = r.log.AwaitPublished(ctx, rc.Index); err != nil {
			return &rc, err
		}
	}
	return &rc, nil
}

// Object returns the state of one object, or nil if it does not exist. It reads
// the state index, which holds every entry whose Submit has returned.
func (r *Registry) Object(id string) (*rules.Object, error) { return r.store.Object(id) }

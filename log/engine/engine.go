// Package engine is Tabularium's write path over tessera
// (github.com/transparency-dev/tessera): it opens a log on a storage driver, signs
// its checkpoints (c2sp.org/tlog-checkpoint), batches and sequences entries,
// deduplicates them (antispam), pushes back under overload and lets callers wait
// until a published checkpoint covers their entry.
//
// The appending contract: Add returns an index only once tessera has durably
// assigned it; an acknowledged entry survives a crash at that index.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"

	"github.com/tabularium/tabularium/log"
)

// ErrPushback means the log is overloaded and the entry was not accepted. The
// caller must retry later; over HTTP it becomes 503 with a Retry-After header.
var ErrPushback = errors.New("log is overloaded, retry later")

// ErrClosed is returned by Add after Close has begun.
var ErrClosed = errors.New("log is closed")

// ErrTooLarge is returned by Add for an entry over MaxEntrySize.
var ErrTooLarge = errors.New("entry too large")

// MaxEntrySize is the largest entry a log accepts: c2sp.org/tlog-tiles encodes entry
// lengths in entry bundles as 16-bit big-endian integers.
const MaxEntrySize = 1<<16 - 1

// Options tune the write path. The zero value of each field selects its default.
type Options struct {
	// BatchMaxSize and BatchMaxAge bound how many entries, and for how long, are
	// gathered before they are sequenced together.
	BatchMaxSize uint
	BatchMaxAge  time.Duration
	// CheckpointInterval is how often a new checkpoint is published when the tree
	// has grown; RepublishInterval how often one is re-signed when it has not.
	CheckpointInterval time.Duration
	RepublishInterval  time.Duration
	// PushbackMaxOutstanding is the number of sequenced but not yet integrated
	// entries beyond which Add returns ErrPushback. tessera's POSIX driver
	// integrates as it sequences and ignores it: a POSIX log pushes back only when
	// its antispam index lags the tree by more than 2048 entries.
	PushbackMaxOutstanding uint
	// MaxPending is the number of entries handed to the sequencer whose index is
	// not yet assigned beyond which Add returns ErrPushback (default 8192). It
	// bounds memory under overload on drivers, like POSIX, that queue without limit.
	MaxPending uint
	// NoAntispam disables deduplication of identical entries.
	NoAntispam bool
	// AntispamMemoryEntries is how many recent entries tessera's in-memory
	// deduplication cache holds in front of the persistent index (default 32768;
	// tessera's own default, 262144, holds about 100 MiB at full load).
	AntispamMemoryEntries uint
	// WitnessPolicy, if set, is a c2sp.org/tlog-policy text: checkpoints are
	// published only once cosigned by a quorum of its witnesses.
	WitnessPolicy []byte
	// WitnessTimeout bounds one round of requests to the witnesses.
	WitnessTimeout time.Duration
	// AwaitPoll is how often waiters for publication poll the checkpoint.
	AwaitPoll time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.BatchMaxSize == 0 {
		o.BatchMaxSize = 1024
	}
	def(&o.BatchMaxAge, 50*time.Millisecond)
	def(&o.CheckpointInterval, time.Second)
	def(&o.RepublishInterval, time.Minute)
	def(&o.WitnessTimeout, 5*time.Second)
	def(&o.AwaitPoll, 100*time.Millisecond)
	if o.AntispamMemoryEntries == 0 {
		o.AntispamMemoryEntries = 32 << 10
	}
	if o.MaxPending == 0 {
		o.MaxPending = 8192
	}
	if o.PushbackMaxOutstanding == 0 {
		o.PushbackMaxOutstanding = tessera.DefaultPushbackMaxOutstanding
	}
	return o
}

// Index is the outcome of a successful Add.
type Index struct {
	Index uint64
	// Dup is true when an identical entry was already in the log at Index.
	Dup bool
}

// Log is one open tessera log. Its methods are safe for concurrent use.
type Log struct {
	origin   string
	vkey     string
	verifier note.Verifier
	reader   tessera.LogReader
	add      tessera.AddFn
	awaiter  *tessera.PublicationAwaiter
	shutdown func(context.Context) error
	cancel   context.CancelFunc
	logger   *slog.Logger

	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup

	// outstanding counts entries enqueued whose future has not resolved;
	// beyond maxOutstanding, Enqueue pushes back.
	outstanding    atomic.Int64
	maxOutstanding uint
}

// Origin returns the log's checkpoint origin line.
func (l *Log) Origin() string { return l.origin }

// Verifier returns the verifier of the log's checkpoint signatures.
func (l *Log) Verifier() note.Verifier { return l.verifier }

// VerifierKey returns the signed-note verifier key of the log's checkpoints.
func (l *Log) VerifierKey() string { return l.vkey }

// Reader returns tessera's reader of the log's published resources.
func (l *Log) Reader() tessera.LogReader { return l.reader }

// Add appends data and returns its index once tessera has durably assigned it.
// It returns ErrPushback when the log is overloaded, ErrTooLarge for an entry over
// MaxEntrySize, and ErrClosed once Close has begun.
func (l *Log) Add(ctx context.Context, data []byte) (Index, error) {
	f, err := l.Enqueue(ctx, data)
	if err != nil {
		return Index{}, err
	}
	return f()
}

// Future resolves to the outcome of an Enqueue. It may be called more than once
// and from any goroutine; every call returns the same result.
type Future func() (Index, error)

// Enqueue hands data to the sequencer and returns at once, without waiting for
// its index. Entries enqueued one after another by a single caller, with no other
// writer to the log, are assigned increasing indices in the order of the calls,
// unless a future resolves to an error. The future resolves once the index is
// durably assigned, with the same errors as Add. Every future must be called
// eventually: Close waits for the outcome of every enqueued entry.
//
// Refusals known at once — ErrTooLarge, ErrClosed, and ErrPushback when more
// than MaxPending entries await their index — are returned as an error, and
// then nothing was enqueued and no index was taken.
func (l *Log) Enqueue(ctx context.Context, data []byte) (Future, error) {
	if len(data) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxEntrySize)
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, ErrClosed
	}
	// tessera's POSIX driver queues without limit, so the cap on entries awaiting
	// their index is enforced here.
	if n := l.outstanding.Add(1); n > int64(l.maxOutstanding) {
		l.outstanding.Add(-1)
		l.mu.RUnlock()
		return nil, fmt.Errorf("%w: %d entries are waiting to be sequenced", ErrPushback, n-1)
	}
	l.inflight.Add(1)
	l.mu.RUnlock()

	f := l.add(ctx, tessera.NewEntry(data))
	return sync.OnceValues(func() (Index, error) {
		defer l.inflight.Done()
		defer l.outstanding.Add(-1)
		idx, err := f()
		if errors.Is(err, tessera.ErrPushback) {
			return Index{}, fmt.Errorf("%w: %v", ErrPushback, err)
		}
		if err != nil {
			return Index{}, fmt.Errorf("append to %s: %w", l.origin, err)
		}
		return Index{Index: idx.Index, Dup: idx.IsDup}, nil
	}), nil
}

// AwaitPublished blocks until a published checkpoint covers index and returns
// that checkpoint note. It returns early with the context's error.
func (l *Log) AwaitPublished(ctx context.Context, index uint64) ([]byte, error) {
	_, cp, err := l.awaiter.Await(ctx, func() (tessera.Index, error) { return tessera.Index{Index: index}, nil })
	if err != nil {
		return nil, fmt.Errorf("await publication of %d in %s: %w", index, l.origin, err)
	}
	return cp, nil
}

// Close stops accepting entries, lets in-flight Adds finish, and waits (bounded by
// ctx) until every acknowledged entry is integrated and covered by a checkpoint.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	drained := make(chan struct{})
	go func() { l.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		l.cancel()
		return fmt.Errorf("close %s: entries still in flight: %w", l.origin, ctx.Err())
	}
	err := l.shutdown(ctx)
	l.cancel()
	if err != nil {
		return fmt.Errorf("close %s: %w", l.origin, err)
	}
	return nil
}

// open wires an opened tessera driver into a Log.
func open(ctx context.Context, driver tessera.Driver, antispam tessera.Antispam, signer note.Signer, vkey string, o Options, logger *slog.Logger) (*Log, error) {
	o = o.withDefaults()
	verifier, err := log.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("%w: verifier key: %w", ErrIdentity, err)
	}
	// The log's background work (sequencing, integration, publication) lives
	// until Close, not until the opening context ends: tessera must be shut down
	// before its context is cancelled, or queued entries are never resolved.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(o.BatchMaxSize, o.BatchMaxAge).
		WithCheckpointInterval(o.CheckpointInterval).
		WithCheckpointRepublishInterval(o.RepublishInterval).
		WithPushback(o.PushbackMaxOutstanding)
	if antispam != nil {
		opts = opts.WithAntispam(o.AntispamMemoryEntries, antispam)
	}
	if len(o.WitnessPolicy) > 0 {
		group, err := tessera.NewWitnessGroupFromPolicy(o.WitnessPolicy)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("witness policy: %w", err)
		}
		opts = opts.WithWitnesses(group, &tessera.WitnessOptions{Timeout: o.WitnessTimeout})
	}
	appender, shutdown, reader, err := tessera.NewAppender(ctx, driver, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open appender for %s: %w", signer.Name(), err)
	}
	return &Log{
		origin:   signer.Name(),
		vkey:     vkey,
		verifier: verifier,
		reader:   reader,
		add:      appender.Add,
		awaiter:  tessera.NewPublicationAwaiter(ctx, reader.ReadCheckpoint, o.AwaitPoll),
		shutdown: shutdown,
		cancel:   cancel,
		logger:   logger,

		maxOutstanding: o.MaxPending,
	}, nil
}

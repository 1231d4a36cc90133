package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
)

// WatchFilter says what a watcher follows: entries naming one of Objects, and
// entries that a key of Keys signed or that name it (as an owner, buyer,
// pledgee, holder, new key, or in the object's ID).
type WatchFilter struct {
	Objects []string
	Keys    []entry.PublicKey
}

// Change is a logged entry that touches what a watcher follows. The entry is
// proven in Checkpoint's tree; whether the rules accept it is not checked
// here (an audit does that).
type Change struct {
	Index      uint64
	Entry      *entry.Entry
	Matched    []string // what it matched: "object land/7", "signer <key>", "key <key>"
	Checkpoint []byte   // the signed checkpoint the entry was verified in
}

// String describes the change on one line: index, type, object, signers and
// fields.
func (c Change) String() string {
	p := c.Entry.Payload
	fields, _ := json.Marshal(p.Fields)
	signers := make([]string, len(c.Entry.Signers))
	for i, s := range c.Entry.Signers {
		signers[i] = string(s)
	}
	return fmt.Sprintf("entry %d: %s %s %s; signed by %s; matched %s",
		c.Index, p.Type, p.Object, fields, strings.Join(signers, ", "), strings.Join(c.Matched, ", "))
}

// WatchOptions configure Watch.
type WatchOptions struct {
	// Policy verifies the log's checkpoints (see AuditOptions.Policy). Required.
	Policy *log.Policy
	// LastSeen, if not nil, remembers the last checkpoint across runs; every
	// checkpoint must be consistent with it. Without it, each checkpoint must
	// be consistent with the previous one of this Watch.
	LastSeen *LastSeen
	MaxAge   time.Duration
	// Interval between two polls of the checkpoint (default 10 seconds).
	Interval time.Duration
	// Once returns after the first poll.
	Once bool
	// Report receives every change, in log order, once the checkpoint's whole
	// tree was verified; an error from it stops Watch.
	Report func(Change) error
	// Now is the clock for cosignature freshness; nil means time.Now.
	Now func() time.Time
}

// Watch follows the log from entry index from: it polls the checkpoint,
// checks it under the policy and for consistency with the last one (a
// *ForkError on a rollback or split view), reads the new entries, verifies
// that they and the tiles hash to the checkpoint's tree (a *TreeError if
// not), and reports every entry matching filter. It returns the index of the
// next entry to read, with ctx's error when ctx ends, or nil after one poll
// with opts.Once.
func Watch(ctx context.Context, src LogReader, origin string, filter WatchFilter, from uint64, opts WatchOptions) (uint64, error) {
	if opts.Policy == nil {
		return from, errors.New("watch: no trust policy or log key")
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	w := &watcher{src: src, origin: origin, filter: filter, next: from, opts: opts}
	for {
		if err := w.poll(ctx); err != nil {
			return w.next, err
		}
		if opts.Once {
			return w.next, nil
		}
		select {
		case <-ctx.Done():
			return w.next, ctx.Err()
		case <-time.After(opts.Interval):
		}
	}
}

type watcher struct {
	src     LogReader
	origin  string
	filter  WatchFilter
	next    uint64
	opts    WatchOptions
	rng     *compact.Range // leaves [0, next), verified against prev
	prev    log.Checkpoint
	prevMsg []byte
}

func (w *watcher) poll(ctx context.Context) error {
	cp, msg, err := latestCheckpoint(ctx, w.src, w.opts.LastSeen, w.opts.Policy, w.origin, w.opts.MaxAge, w.opts.Now)
	if err != nil {
		return err
	}
	if w.prevMsg != nil {
		if err := consistent(ctx, w.prev, cp, w.prevMsg, msg, TileProver{ReadTile: w.src.ReadTile}); err != nil {
			return err
		}
	}
	w.prev, w.prevMsg = cp, msg
	if cp.Size < w.next {
		return nil // the log has not reached from yet
	}
	tr := newTreeReader(w.src, w.rng, cp, msg)
	if w.rng == nil {
		if tr.rng, err = rangeFromTiles(ctx, tr, w.next); err != nil {
			return err
		}
	}
	var changes []Change
	err = tr.read(ctx, cp.Size, func(i uint64, data []byte) error {
		if c, ok := w.match(i, data); ok {
			c.Checkpoint = msg
			changes = append(changes, c)
		}
		return nil
	})
	if err == nil {
		err = tr.checkRoot()
	}
	if err != nil {
		return err
	}
	w.rng, w.next = tr.rng, cp.Size
	for _, c := range changes {
		if w.opts.Report != nil {
			if err := w.opts.Report(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// match reports whether the entry touches what the filter follows. Entries
// that do not parse name nothing and are skipped.
func (w *watcher) match(index uint64, data []byte) (Change, bool) {
	e, err := entry.Parse(data)
	if err != nil {
		return Change{}, false
	}
	c := Change{Index: index, Entry: e}
	if slices.Contains(w.filter.Objects, e.Payload.Object) {
		c.Matched = append(c.Matched, "object "+e.Payload.Object)
	}
	named := namedKeys(e.Payload)
	for _, k := range w.filter.Keys {
		switch {
		case slices.Contains(e.Signers, k):
			c.Matched = append(c.Matched, "signer "+string(k))
		case slices.Contains(named, k) || strings.HasSuffix(e.Payload.Object, "/"+string(k)):
			c.Matched = append(c.Matched, "key "+string(k))
		}
	}
	return c, len(c.Matched) > 0
}

// namedKeys returns the keys an entry's fields name.
func namedKeys(p *entry.Payload) []entry.PublicKey {
	switch f := p.Fields.(type) {
	case *entry.OwnersFields:
		return keysOfShares(f.Owners)
	case *entry.TransferFields:
		return keysOfShares(f.Buyers)
	case *entry.PledgeFields:
		return []entry.PublicKey{f.Pledgee}
	case *entry.RoleFields:
		return []entry.PublicKey{f.Holder}
	case *entry.KeyFields:
		return []entry.PublicKey{f.New}
	case *entry.HolderFields:
		return []entry.PublicKey{f.Holder}
	}
	return nil
}

func keysOfShares(s []entry.Share) []entry.PublicKey {
	out := make([]entry.PublicKey, len(s))
	for i, x := range s {
		out[i] = x.Key
	}
	return out
}

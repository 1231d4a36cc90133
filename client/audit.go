package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/transparency-dev/tessera/api/layout"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/rules"
)

// Violation is a logged entry that the registry's rules refuse: a server that
// applies them would never have appended it.
type Violation struct {
	Index   uint64 `json:"index"`
	Code    string `json:"code"`    // the rule's stable code, for example "missing-signature"
	Message string `json:"message"` // the rule engine's explanation
}

// StateDiff is an object whose state as the server serves it differs from the
// state replayed from the log. Served is nil if the server does not know it.
type StateDiff struct {
	ID       string
	Replayed *rules.Object
	Served   *rules.Object
}

// AuditProgress is reported as an audit reads the log: Done of Total entries,
// the audit having started (or resumed) at Start.
type AuditProgress struct {
	Start, Done, Total uint64
}

// AuditOptions configure Audit.
type AuditOptions struct {
	// Policy verifies the log's checkpoint: the log's key and, if it has a
	// quorum, enough witness cosignatures. PolicyForKey makes one from the
	// log's key alone. Required.
	Policy *log.Policy
	// MaxAge refuses checkpoints whose cosignatures are older; 0 for no limit.
	MaxAge time.Duration
	// Objects, if not nil, is asked for the served state of every replayed
	// object, which must equal the replayed one.
	Objects ObjectSource
	// Progress, if not nil, is called after each entry bundle.
	Progress func(AuditProgress)
	// SaveEvery is how many entries are replayed between two saves of the
	// state (default 16384); the state is also saved at the end and when the
	// audit stops early.
	SaveEvery uint64
	// Now is the clock for cosignature freshness; nil means time.Now.
	Now func() time.Time
}

// AuditReport is the outcome of an audit that read the whole log.
type AuditReport struct {
	Origin     string
	Checkpoint []byte // the signed checkpoint the whole log was verified against
	Size       uint64
	Start      uint64      // the entry this run started at: 0, or where the last run stopped
	Violations []Violation // every entry the rules refuse, since the first run
	Objects    int         // objects in the replayed state
	// Compared, Newer and Diffs are set when the served state was compared:
	// objects compared, objects the server has changed after the checkpoint
	// (not comparable), and objects whose served state differs.
	Compared, Newer int
	Diffs           []StateDiff
}

// Clean reports whether the audit found nothing wrong.
func (r *AuditReport) Clean() bool { return len(r.Violations) == 0 && len(r.Diffs) == 0 }

// PolicyForKey returns the trust policy that trusts a log's checkpoints on its
// signature alone (c2sp.org/tlog-policy with "quorum none").
func PolicyForKey(vkey string) (*log.Policy, error) {
	return log.ParsePolicy([]byte("log " + vkey + "\nquorum none\n"))
}

// Audit fetches the log's latest checkpoint and verifies it under the policy
// and, if the state remembers an earlier one, its consistency with it (a
// *ForkError is a rollback or split view, with both checkpoints); then it
// reads every entry not yet audited, checks that the entries and tiles hash to
// the checkpoint's tree (a *TreeError if not), and replays each through the
// rule engine, as the server does, recording every refusal as a Violation.
// With opts.Objects it finally compares the served state of every object.
//
// The state is saved as the audit goes, so an audit stopped by ctx or by a
// network failure resumes where it stopped when run again with the same state.
func Audit(ctx context.Context, src LogReader, cfg rules.Config, st *AuditState, opts AuditOptions) (*AuditReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Policy == nil {
		return nil, errors.New("audit: no trust policy or log key")
	}
	if opts.SaveEvery == 0 {
		opts.SaveEvery = 1 << 14
	}
	cp, msg, err := latestCheckpoint(ctx, src, st.lastSeen, opts.Policy, cfg.Log, opts.MaxAge, opts.Now)
	if err != nil {
		return nil, err
	}
	rng, err := st.begin(&cfg)
	if err != nil {
		return nil, err
	}
	start := rng.End()
	if start > cp.Size {
		return nil, fmt.Errorf("the audit state is at entry %d but the log's checkpoint has %d entries: the log lost entries, or the state is another log's", start, cp.Size)
	}
	progress := func(done uint64) {
		if opts.Progress != nil {
			opts.Progress(AuditProgress{Start: start, Done: done, Total: cp.Size})
		}
	}
	progress(start)
	tr := newTreeReader(src, rng, cp, msg)
	saved := start
	err = tr.read(ctx, cp.Size, func(i uint64, data []byte) error {
		if _, err := st.replay(&cfg, data, i); err != nil {
			return err
		}
		if (i+1)%layout.EntryBundleWidth == 0 || i+1 == cp.Size {
			progress(i + 1)
		}
		if i+1-saved >= opts.SaveEvery {
			saved = i + 1
			return st.save(tr.rng)
		}
		return nil
	})
	if err == nil {
		err = tr.checkRoot()
	}
	var te *TreeError
	if err != nil && !errors.As(err, &te) && tr.rng.End() == st.Position() {
		err = errors.Join(err, st.save(tr.rng)) // keep the progress for the next run
	}
	if err != nil {
		return nil, err
	}
	if err := st.save(tr.rng); err != nil {
		return nil, err
	}
	r := &AuditReport{Origin: cfg.Log, Checkpoint: msg, Size: cp.Size, Start: start,
		Violations: slices.Clone(st.f.Rejected), Objects: len(st.f.Objects)}
	if opts.Objects != nil {
		if err := compareState(ctx, opts.Objects, st, cp.Size, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// latestCheckpoint fetches the log's checkpoint and verifies it, and with a
// last-seen store its consistency with the last one seen, recording it.
func latestCheckpoint(ctx context.Context, src LogReader, ls *LastSeen, p *log.Policy, origin string, maxAge time.Duration, clock func() time.Time) (log.Checkpoint, []byte, error) {
	now := time.Now()
	if clock != nil {
		now = clock()
	}
	msg, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return log.Checkpoint{}, nil, fmt.Errorf("fetch checkpoint: %w", err)
	}
	var cp log.Checkpoint
	if ls != nil {
		cp, err = ls.Update(ctx, p, origin, msg, TileProver{ReadTile: src.ReadTile}, now, maxAge)
	} else {
		cp, _, err = p.VerifyCheckpoint(msg, origin, now, maxAge)
	}
	if err != nil {
		return log.Checkpoint{}, nil, fmt.Errorf("checkpoint of %s: %w", origin, err)
	}
	return cp, msg, nil
}

// compareState asks the server for every replayed object and records those
// whose served state differs. Objects the server changed at or after size
// cannot be compared with the replay up to size and are only counted.
func compareState(ctx context.Context, src ObjectSource, st *AuditState, size uint64, r *AuditReport) error {
	ids := make([]string, 0, len(st.f.Objects))
	for id := range st.f.Objects {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		mine, err := st.Object(id)
		if err != nil {
			return err
		}
		served, err := src.Object(ctx, id)
		if err != nil {
			return fmt.Errorf("served state of %s: %w", id, err)
		}
		if served != nil && served.Latest >= size && served.ID == id {
			r.Newer++
			continue
		}
		r.Compared++
		if served == nil || !sameObject(mine, served) {
			r.Diffs = append(r.Diffs, StateDiff{ID: id, Replayed: mine, Served: served})
		}
	}
	return nil
}

// sameObject compares two states by their JSON form, which both the server's
// answer and the replay go through alike.
func sameObject(a, b *rules.Object) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

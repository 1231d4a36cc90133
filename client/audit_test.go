package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

func auditOnce(t *testing.T, f *Fetcher, r *registry, dir string, opts AuditOptions) (*AuditReport, error) {
	t.Helper()
	st, err := OpenAuditState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Policy == nil {
		opts.Policy = r.l.policy()
	}
	opts.Now = func() time.Time { return testNow }
	return Audit(context.Background(), f, r.cfg, st, opts)
}

func TestAuditOfAValidLogIsClean(t *testing.T) {
	r := newRegistry(t)
	r.grow(200) // 402 entries: a full bundle and a partial one
	var v tileView
	v.show(r.l)
	f := v.serve(t)
	dir := t.TempDir()
	var last AuditProgress
	rep, err := auditOnce(t, f, r, dir, AuditOptions{Progress: func(p AuditProgress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || rep.Size != 402 || rep.Start != 0 || rep.Objects == 0 {
		t.Fatalf("report %+v", rep)
	}
	if last.Done != 402 || last.Total != 402 {
		t.Fatalf("last progress %+v", last)
	}
	// The log grows; the next audit reads only the new entries.
	r.grow(3)
	v.show(r.l)
	reads := v.reads
	rep, err = auditOnce(t, f, r, dir, AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || rep.Start != 402 || rep.Size != 408 || v.reads-reads != 1 {
		t.Fatalf("second run: %+v, %d bundles read", rep, v.reads-reads)
	}
}

func TestAuditFindsEntriesTheRulesRefuse(t *testing.T) {
	r := newRegistry(t)
	owner, thief := testKey(t), testKey(t)
	r.parcel("land/7", owner)
	r.grow(2)
	stolen := r.transfer("land/7", thief, thief, r.reg) // without the owner's signature
	r.grow(2)
	var v tileView
	v.show(r.l)
	rep, err := auditOnce(t, v.serve(t), r, t.TempDir(), AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Violations) != 1 || rep.Violations[0].Index != stolen || rep.Violations[0].Code != rules.CodeMissingSignature {
		t.Fatalf("violations %+v, want entry %d refused with %s", rep.Violations, stolen, rules.CodeMissingSignature)
	}
}

func TestAuditDetectsEntriesThatDoNotMatchTheTree(t *testing.T) {
	r := newRegistry(t)
	r.grow(5)
	var v tileView
	v.show(r.l)
	v.bundle = func(_ uint64, es [][]byte) [][]byte {
		es = slices.Clone(es)
		es[3] = es[4] // hide entry 3 behind a copy of entry 4
		return es
	}
	_, err := auditOnce(t, v.serve(t), r, t.TempDir(), AuditOptions{})
	var te *TreeError
	if !errors.As(err, &te) || te.Level != 0 || te.Index != 3 {
		t.Fatalf("err = %v", err)
	}
}

func TestAuditDetectsRollbackAndSplitView(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind error
		next func(r *registry) *testLog
	}{
		{"rollback", ErrRollback, func(r *registry) *testLog { return r.l.fork(5) }},
		{"split view", ErrSplitView, func(r *registry) *testLog {
			f := r.l.fork(5)
			for i := 0; i < 5; i++ {
				f.addEntry("land/forged")
			}
			return f
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRegistry(t)
			r.grow(3)
			var v tileView
			v.show(r.l)
			f := v.serve(t)
			dir := t.TempDir()
			first, err := auditOnce(t, f, r, dir, AuditOptions{})
			if err != nil {
				t.Fatal(err)
			}
			v.show(tc.next(r))
			shown, _ := v.ReadCheckpoint(context.Background())
			_, err = auditOnce(t, f, r, dir, AuditOptions{})
			var fe *ForkError
			if !errors.Is(err, tc.kind) || !errors.As(err, &fe) || string(fe.Old) != string(first.Checkpoint) || string(fe.New) != string(shown) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestAuditResumesWhereItStopped(t *testing.T) {
	r := newRegistry(t)
	r.grow(300)
	owner := testKey(t)
	r.parcel("land/late", owner)
	r.add(entry.TypeLandPledge, "land/late", &entry.PledgeFields{Pledgee: r.bank.Public}, owner, r.reg) // the bank did not sign
	var v tileView
	v.show(r.l)
	f := v.serve(t)

	whole, err := auditOnce(t, f, r, t.TempDir(), AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	st, _ := OpenAuditState(dir)
	_, err = Audit(ctx, f, r.cfg, st, AuditOptions{Policy: r.l.policy(), Now: func() time.Time { return testNow }, SaveEvery: 100,
		Progress: func(p AuditProgress) {
			if p.Done >= 300 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted audit: %v", err)
	}
	st, _ = OpenAuditState(dir)
	if st.Position() < 256 || st.Position() >= 602 {
		t.Fatalf("stopped at %d", st.Position())
	}
	resumed, err := auditOnce(t, f, r, dir, AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Start != st.Position() || !reflect.DeepEqual(resumed.Violations, whole.Violations) || resumed.Objects != whole.Objects || len(whole.Violations) != 1 {
		t.Fatalf("resumed %+v\nwhole %+v", resumed, whole)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "audit.json"))
	st2, _ := OpenAuditState(dir)
	if !reflect.DeepEqual(st2.f.Objects, replayMemory(t, r).Encoded()) || len(a) == 0 {
		t.Fatal("the resumed state differs from a replay through rules.Memory")
	}
}

// replayMemory replays the registry's log through rules.Memory.
func replayMemory(t *testing.T, r *registry) *rules.Memory {
	m := rules.NewMemory()
	for i, e := range r.l.entries {
		if err := m.Replay(&r.cfg, e, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// memoryObjects serves the state replayed by rules.Memory, with faults.
type memoryObjects struct {
	m      *rules.Memory
	change func(*rules.Object)
}

func (s memoryObjects) Object(_ context.Context, id string) (*rules.Object, error) {
	o, err := s.m.Object(id)
	if o != nil && s.change != nil {
		s.change(o)
	}
	return o, err
}

func TestAuditComparesServedState(t *testing.T) {
	r := newRegistry(t)
	owner, buyer := testKey(t), testKey(t)
	r.parcel("land/9", owner)
	r.transfer("land/9", buyer, owner, buyer, r.reg)
	var v tileView
	v.show(r.l)
	f := v.serve(t)
	m := replayMemory(t, r)
	rep, err := auditOnce(t, f, r, "", AuditOptions{Objects: memoryObjects{m: m}})
	if err != nil || !rep.Clean() || rep.Compared != rep.Objects {
		t.Fatalf("honest server: %+v %v", rep, err)
	}
	// The server shows the parcel still owned by the seller.
	rep, err = auditOnce(t, f, r, "", AuditOptions{Objects: memoryObjects{m: m, change: func(o *rules.Object) {
		if o.ID == "land/9" {
			o.Owners = []entry.Share{{Key: owner.Public, Share: "1"}}
		}
	}}})
	if err != nil || len(rep.Diffs) != 1 || rep.Diffs[0].ID != "land/9" || rep.Diffs[0].Served.Owners[0].Key != owner.Public {
		t.Fatalf("lying server: %+v %v", rep, err)
	}
}

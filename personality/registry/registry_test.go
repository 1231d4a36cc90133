package registry_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
)

// TestDifferentObjectsProceedInParallel: submissions for different objects are
// pipelined, not serialised one per engine batch; all are accepted at
// contiguous indices and the live state equals a replay.
func TestDifferentObjectsProceedInParallel(t *testing.T) {
	const origin = "tabularium.local/parallel"
	const batchAge = 50 * time.Millisecond
	lg := openPOSIX(t, origin, engine.Options{BatchMaxAge: batchAge, NoAntispam: true})
	f := newFixture(t, origin, lg)
	const n = 200
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = f.grant(rules.RoleNotary)
	}
	start := time.Now()
	rcs, errs := f.submitAll(raws)
	elapsed := time.Since(start)
	var indices []uint64
	for i, err := range errs {
		if err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
		if !bytes.Equal(entryAt(t, lg, rcs[i].Index), raws[i]) {
			t.Errorf("receipt of submission %d names index %d, which holds another entry", i, rcs[i].Index)
		}
		indices = append(indices, rcs[i].Index)
	}
	slices.Sort(indices)
	for i, idx := range indices {
		if idx != uint64(i) {
			t.Fatalf("indices are not 0..%d: %v", n-1, indices)
		}
	}
	// One at a time, n entries would take n batches.
	if limit := n * batchAge / 4; elapsed > limit {
		t.Errorf("%d submissions took %s; serialised per batch they take %s, pipelined they should take well under %s", n, elapsed, n*batchAge, limit)
	}
	checkReplay(t, f, lg)
}

// TestConflictsUnderParallelLoad: of the entries built on the same state of one
// object, exactly one is accepted and the others are refused with stale-prev,
// while unrelated submissions run alongside; the live state equals a replay.
func TestConflictsUnderParallelLoad(t *testing.T) {
	const origin = "tabularium.local/conflicts"
	lg := openPOSIX(t, origin, engine.Options{BatchMaxAge: 10 * time.Millisecond, NoAntispam: true})
	f := newFixture(t, origin, lg)
	const objects, rivals, others = 20, 6, 100
	holders := make([]entry.PublicKey, objects)
	grants := make([][]byte, objects)
	for i := range holders {
		holders[i] = key(t).Public
		grants[i] = f.grantTo(rules.RoleBank, holders[i])
	}
	if _, errs := f.submitAll(grants); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	var raws [][]byte
	object := map[int]int{} // index in raws -> the object it revokes
	for i, h := range holders {
		prev := entry.Hash(grants[i])
		for range rivals {
			object[len(raws)] = i
			raws = append(raws, f.revoke(rules.RoleBank, h, prev[:]))
		}
	}
	for range others {
		raws = append(raws, f.grant(rules.RoleNotary))
	}
	rcs, errs := f.submitAll(raws)
	accepted := make([]int, objects)
	for i, err := range errs {
		o, rival := object[i]
		var re *rules.Error
		switch {
		case err == nil && rival:
			accepted[o]++
		case err == nil:
		case rival && errors.As(err, &re) && re.Code == rules.CodeStalePrev:
		default:
			t.Errorf("submission %d: %v", i, err)
		}
		if err == nil && !bytes.Equal(entryAt(t, lg, rcs[i].Index), raws[i]) {
			t.Errorf("receipt of submission %d names index %d, which holds another entry", i, rcs[i].Index)
		}
	}
	for o, n := range accepted {
		if n != 1 {
			t.Errorf("object %d: %d of %d conflicting revocations accepted, want exactly 1", o, n, rivals)
		}
	}
	checkReplay(t, f, lg)
}

// TestPushbackMidPipelineIsAnsweredFromReplay: an entry judged against a pending
// entry whose future then fails is in the log at another position than it was
// judged at; the registry resyncs and answers from the replay: the failed entry
// gets pushback (503), the dependent one ErrRejectedOnReplay, the independent
// ones success. The registry then resumes.
func TestPushbackMidPipelineIsAnsweredFromReplay(t *testing.T) {
	const origin = "tabularium.local/pushback"
	real := openPOSIX(t, origin, engine.Options{BatchMaxAge: 5 * time.Millisecond, NoAntispam: true})
	lg := &faultLog{Log: real}
	f := newFixture(t, origin, lg)
	holder := key(t).Public
	grant := f.grantTo(rules.RoleCourt, holder)
	prev := entry.Hash(grant)
	revoke := f.revoke(rules.RoleCourt, holder, prev[:])
	independent := f.grant(rules.RoleNotary)

	gate := make(chan struct{})
	seen := make(chan []byte, 3)
	lg.fault = func(_ int64, data []byte) engine.Future {
		seen <- data
		if bytes.Equal(data, grant) {
			return failed(engine.ErrPushback, gate)
		}
		return nil
	}
	type result struct {
		rc  *registry.Receipt
		err error
	}
	submit := func(raw []byte) <-chan result {
		c := make(chan result, 1)
		go func() {
			rc, err := f.reg.Submit(context.Background(), raw, false)
			c <- result{rc, err}
		}()
		if got := <-seen; !bytes.Equal(got, raw) {
			t.Fatal("the log saw another entry than the one submitted")
		}
		return c
	}
	grantRes := submit(grant)             // pending, its future not resolved
	revokeRes := submit(revoke)           // accepted against the pending grant
	independentRes := submit(independent) // unrelated
	close(gate)                           // the grant is pushed back

	if r := <-grantRes; !errors.Is(r.err, engine.ErrPushback) {
		t.Errorf("pushed-back grant: %v, want pushback", r.err)
	}
	r := <-revokeRes
	var re *rules.Error
	if !errors.Is(r.err, registry.ErrRejectedOnReplay) || !errors.As(r.err, &re) || re.Code != rules.CodeUnknownObject {
		t.Errorf("revocation of the pushed-back grant: %v, want rejected on replay with %s", r.err, rules.CodeUnknownObject)
	}
	if r := <-independentRes; r.err != nil {
		t.Errorf("independent entry: %v", r.err)
	} else if !bytes.Equal(entryAt(t, real, r.rc.Index), independent) {
		t.Errorf("receipt names index %d, which holds another entry", r.rc.Index)
	}

	// The registry resumes: the grant, retried, is accepted.
	lg.fault = nil
	rc, err := f.reg.Submit(context.Background(), grant, false)
	if err != nil {
		t.Fatalf("retried grant: %v", err)
	}
	if o, _ := f.reg.Object("role/" + rules.RoleCourt + "/" + string(holder)); o == nil || o.Latest != rc.Index || o.Status != rules.StatusActive {
		t.Errorf("after the retried grant the role object is %+v", o)
	}
	checkReplay(t, f, real)
}

// TestFaultsUnderLoad injects pushback, a failed write and entries appended
// behind the registry's back into a full pipeline: no acknowledged entry is
// missing from the log or the state, the pushed-back submitters get
// engine.ErrPushback, the state equals a replay of the log, and the registry
// accepts entries afterwards.
func TestFaultsUnderLoad(t *testing.T) {
	const origin = "tabularium.local/faults"
	real := openPOSIX(t, origin, engine.Options{BatchMaxAge: 10 * time.Millisecond, NoAntispam: true})
	lg := &faultLog{Log: real}
	f := newFixture(t, origin, lg)
	const n = 400
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = f.grant(rules.RoleNotary)
	}
	errDisk := errors.New("injected: disk failure")
	pushed := map[string]bool{}
	lg.fault = func(call int64, data []byte) engine.Future {
		switch {
		case call%17 == 5:
			pushed[string(data)] = true
			return failed(engine.ErrPushback, nil)
		case call == 100:
			return failed(errDisk, nil)
		case call%50 == 20:
			// Another writer appends first: the entry lands one index later.
			// (Every future must be called, or the log's Close waits for it.)
			go func() {
				if f, err := real.Enqueue(context.Background(), []byte("written behind the registry's back")); err == nil {
					_, _ = f()
				}
			}()
		}
		return nil
	}
	rcs, errs := f.submitAll(raws)
	lg.fault = nil
	ok, pushbacks := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			if !bytes.Equal(entryAt(t, real, rcs[i].Index), raws[i]) {
				t.Errorf("receipt of submission %d names index %d, which holds another entry", i, rcs[i].Index)
			}
			var id string
			if e, perr := entry.Parse(raws[i]); perr == nil {
				id = e.Payload.Object
			}
			if o, _ := f.reg.Object(id); o == nil || o.Latest != rcs[i].Index {
				t.Errorf("acknowledged entry %d at %d is not in the state: %+v", i, rcs[i].Index, o)
			}
		case errors.Is(err, engine.ErrPushback):
			pushbacks++
			if !pushed[string(raws[i])] {
				t.Errorf("submission %d: pushback that was not injected: %v", i, err)
			}
		case errors.Is(err, errDisk):
		default:
			t.Errorf("submission %d: %v", i, err)
		}
	}
	if pushbacks != len(pushed) || pushbacks == 0 {
		t.Errorf("%d submitters got pushback, %d were pushed back", pushbacks, len(pushed))
	}
	if ok < n/2 {
		t.Errorf("only %d of %d accepted", ok, n)
	}
	// The registry resumes.
	if _, err := f.reg.Submit(context.Background(), f.grant(rules.RoleNotary), false); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
	checkReplay(t, f, real)
}

// TestDuplicateIsNeverAppliedTwice: an entry that the log already holds (there
// refused, as it came before the object existed) is valid now, but the log
// deduplicates it; it is answered as a duplicate at its first index and never
// applied, exactly as a replay sees it.
func TestDuplicateIsNeverAppliedTwice(t *testing.T) {
	const origin = "tabularium.local/dup"
	lg := openPOSIX(t, origin, engine.Options{BatchMaxAge: 5 * time.Millisecond})
	f := newFixture(t, origin, lg)
	holder := key(t).Public
	grant := f.grantTo(rules.RoleBank, holder)
	prev := entry.Hash(grant)
	revoke := f.revoke(rules.RoleBank, holder, prev[:])
	first, err := lg.Add(context.Background(), revoke) // behind the registry's back
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Submit(context.Background(), grant, false); err != nil {
		t.Fatal(err)
	}
	rc, err := f.reg.Submit(context.Background(), revoke, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rc.Duplicate || rc.Index != first.Index {
		t.Errorf("receipt %+v, want a duplicate at %d", rc, first.Index)
	}
	if o, _ := f.reg.Object("role/" + rules.RoleBank + "/" + string(holder)); o == nil || o.Status != rules.StatusActive {
		t.Errorf("the duplicate was applied: %+v", o)
	}
	// Pipelined duplicates: each resubmission is refused or deduplicated, none applied.
	rcs, errs := f.submitAll([][]byte{grant, grant, revoke, revoke})
	for i, err := range errs {
		var re *rules.Error
		if err == nil && !rcs[i].Duplicate {
			t.Errorf("resubmission %d accepted as new at %d", i, rcs[i].Index)
		} else if err != nil && !errors.As(err, &re) {
			t.Errorf("resubmission %d: %v", i, err)
		}
	}
	checkReplay(t, f, lg)
}

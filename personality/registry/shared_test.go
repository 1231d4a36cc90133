package registry_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/log/engine/awstest"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// sharedIndexes opens the same state index once per front end: a SQLite file
// (front ends in one process) and a MariaDB database (front ends anywhere).
var sharedIndexes = []struct {
	name string
	open func(t *testing.T, origin string) func() *state.Store
}{
	{"SQLite", func(t *testing.T, origin string) func() *state.Store {
		path := filepath.Join(t.TempDir(), "state.db")
		return func() *state.Store {
			s, err := state.Open(path, origin)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
	{"MySQL", func(t *testing.T, origin string) func() *state.Store {
		dsn := awstest.MySQLDSN(t)
		return func() *state.Store {
			s, err := state.OpenMySQL(context.Background(), dsn, origin)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
}

// openFrontEnds opens n registries sharing lg and one state index. The
// fixture returned builds entries and reads the index through the first.
func openFrontEnds(t *testing.T, origin string, lg registry.SharedLog, n int, openStore func() *state.Store) (*fixture, []*registry.Registry) {
	f := &fixture{tb: t, root: key(t), time: baseTime}
	f.cfg = rules.Config{Log: origin, Kind: rules.KindLand, Roots: []entry.PublicKey{f.root.Public}, RecoveryWait: 3600}
	regs := make([]*registry.Registry, n)
	for i := range regs {
		s := openStore()
		if i == 0 {
			f.store = s
		}
		var err error
		regs[i], err = registry.OpenShared(context.Background(), f.cfg, lg, s, registry.Options{
			Now: func() time.Time { return time.Unix(baseTime+1e6, 0) }, Logger: testLogger(), CatchUpPoll: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
	}
	f.reg = regs[0]
	return f, regs
}

// TestSharedFrontEndsAcceptOnePerConflict: three front ends share a log and
// its state index; rival revocations of each role, spread over all of them and
// submitted at once, are accepted exactly once per role; with an intruder
// appending rival entries straight to the log as well (a front end that lost
// its lock), the index still equals a replay of the log.
func TestSharedFrontEndsAcceptOnePerConflict(t *testing.T) {
	for _, idx := range sharedIndexes {
		for _, intruder := range []bool{false, true} {
			name := idx.name
			if intruder {
				name += "/intruder"
			}
			t.Run(name, func(t *testing.T) {
				const origin = "tabularium.local/shared"
				lg := openPOSIX(t, origin, engine.Options{BatchMaxAge: 5 * time.Millisecond, NoAntispam: true})
				f, regs := openFrontEnds(t, origin, lg, 3, idx.open(t, origin))
				testConflictsAcrossFrontEnds(t, f, regs, lg, intruder)
			})
		}
	}
}

func testConflictsAcrossFrontEnds(t *testing.T, f *fixture, regs []*registry.Registry, lg *engine.Log, intruder bool) {
	const objects, rivals, others = 12, 6, 60
	holders := make([]entry.PublicKey, objects)
	grants := make([][]byte, objects)
	for i := range holders {
		holders[i] = key(t).Public
		grants[i] = f.grantTo(rules.RoleBank, holders[i])
	}
	submit := func(raws [][]byte) ([]*registry.Receipt, []error) {
		rcs, errs := make([]*registry.Receipt, len(raws)), make([]error, len(raws))
		var wg sync.WaitGroup
		for i, raw := range raws {
			wg.Go(func() { rcs[i], errs[i] = regs[i%len(regs)].Submit(context.Background(), raw, false) })
		}
		wg.Wait()
		return rcs, errs
	}
	if _, errs := submit(grants); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	var raws [][]byte
	object := map[int]int{}
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
	var wg sync.WaitGroup
	intruded := make([]*engine.Index, objects) // where the intruder's rival landed
	if intruder {
		for i := range objects {
			prev := entry.Hash(grants[i])
			raw := f.revoke(rules.RoleBank, holders[i], prev[:])
			wg.Go(func() {
				idx, err := lg.Add(context.Background(), raw)
				if err != nil {
					t.Error(err)
				}
				intruded[i] = &idx
			})
		}
	}
	rcs, errs := submit(raws)
	wg.Wait()
	accepted := make([]int, objects)
	for i, err := range errs {
		o, rival := object[i]
		var re *rules.Error
		switch {
		case err == nil && rival:
			accepted[o]++
		case err == nil:
		case rival && errors.As(err, &re) && re.Code == rules.CodeStalePrev:
		case rival && errors.Is(err, registry.ErrRejectedOnReplay):
		default:
			t.Errorf("submission %d: %v", i, err)
		}
		if err == nil && !bytes.Equal(entryAt(t, lg, rcs[i].Index), raws[i]) {
			t.Errorf("receipt of submission %d names index %d, which holds another entry", i, rcs[i].Index)
		}
	}
	// The intruder's entries are in the log; the next group replays them.
	if _, errs := submit([][]byte{f.grant(rules.RoleNotary)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	checkReplay(t, f, lg)
	rejected, err := f.store.Rejected()
	if err != nil {
		t.Fatal(err)
	}
	for o, n := range accepted {
		if idx := intruded[o]; idx != nil && rejected[idx.Index] == nil {
			n++ // the replay accepted the intruder's rival
		}
		if n != 1 {
			t.Errorf("object %d: %d conflicting revocations took effect, want exactly 1", o, n)
		}
	}
}

package api

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// TestReplayEqualsLiveState submits a random history of valid and invalid
// entries, plus entries written into the log behind the personality's back, and
// checks that replaying the log from scratch gives exactly the live state.
// Submissions go in concurrent waves, so entries are judged against pending
// ones, conflict with each other and race the writes behind the registry's back.
func TestReplayEqualsLiveState(t *testing.T) {
	for _, wave := range []int{1, 8} {
		t.Run(fmt.Sprintf("wave=%d", wave), func(t *testing.T) { testReplayEqualsLiveState(t, wave) })
	}
}

func testReplayEqualsLiveState(t *testing.T, wave int) {
	l := newLand(t)
	rng := rand.New(rand.NewPCG(1, 2))
	people := []*entry.PrivateKey{l.o1, l.o2, l.buyer, key(t), key(t)}
	officers := []*entry.PrivateKey{l.reg1, l.reg2, l.notary, l.bank, l.court, l.root}
	var parcels []string
	pick := func(ks []*entry.PrivateKey) *entry.PrivateKey { return ks[rng.IntN(len(ks))] }
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 120; i++ {
		if i%wave == 0 {
			wg.Wait()
		}
		var p *entry.Payload
		switch n := rng.IntN(9); {
		case n == 0 || len(parcels) == 0:
			id := newParcel()
			parcels = append(parcels, id)
			p = l.payload(entry.TypeLandRegister, id, &entry.OwnersFields{Owners: []entry.Share{share(pick(people), "1")}})
		case n == 1:
			p = l.payload(entry.TypeLandArrest, parcels[rng.IntN(len(parcels))], &entry.NoFields{}, doc("order"))
		case n == 2:
			p = l.payload(entry.TypeLandLift, parcels[rng.IntN(len(parcels))], &entry.LiftFields{Arrest: uint64(rng.IntN(3))}, doc("order"))
		case n == 3:
			p = l.payload(entry.TypeLandPledge, parcels[rng.IntN(len(parcels))], &entry.PledgeFields{Pledgee: l.bank.Public})
		case n == 4:
			p = l.payload(entry.TypeLandRelease, parcels[rng.IntN(len(parcels))], &entry.ReleaseFields{Pledge: uint64(rng.IntN(3))})
		case n == 5:
			// Written straight into the log: garbage, or a stale entry.
			junk := []byte("written into storage directly")
			if rng.IntN(2) == 0 {
				raw, _ := entry.New(l.transfer(parcels[0]), l.o1)
				junk = raw
			}
			wg.Go(func() {
				if _, err := l.log.Add(context.Background(), junk); err != nil {
					t.Error(err)
				}
			})
			continue
		case n == 6:
			r := officers[rng.IntN(4)]
			p = l.payload(entry.TypeRoleRevoke, "role/"+roleOf(l, r)+"/"+string(r.Public), &entry.RoleFields{Role: roleOf(l, r), Holder: r.Public})
		default:
			p = l.payload(entry.TypeLandTransfer, parcels[rng.IntN(len(parcels))], &entry.TransferFields{Buyers: []entry.Share{share(pick(people), "1")}})
		}
		if rng.IntN(5) == 0 {
			p.Prev = nil // an invalid variant
		}
		// Sign with a random subset of everyone.
		var keys []*entry.PrivateKey
		for _, k := range append(append([]*entry.PrivateKey{}, people...), officers...) {
			if rng.IntN(3) != 0 {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			keys = officers[:1]
		}
		raw, err := entry.New(p, keys...)
		if err != nil {
			t.Fatalf("build %s: %v", p.Type, err)
		}
		wg.Go(func() {
			if r := l.post(raw, ""); r.Status == http.StatusOK {
				accepted.Add(1)
			} else if r.Status >= 500 {
				t.Errorf("%s: %d %s", p.Type, r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	if accepted := accepted.Load(); accepted < 10 {
		t.Fatalf("only %d entries accepted; the history is not interesting", accepted)
	}
	ctx := context.Background()
	size := waitIntegrated(t, l.env)
	if err := l.store.CatchUp(ctx, &l.cfg, l.log, size); err != nil {
		t.Fatal(err)
	}
	live, err := l.store.Encoded()
	if err != nil {
		t.Fatal(err)
	}
	liveRejected, _ := l.store.Rejected()

	// Replay into memory, as an auditor does.
	mem := rules.NewMemory()
	err = l.log.ReadEntries(ctx, 0, size, func(i uint64, data []byte) error { return mem.Replay(&l.cfg, data, i) })
	if err != nil {
		t.Fatal(err)
	}
	// And into a fresh SQLite index, as a restarted server with a lost index does.
	fresh, err := state.Open(filepath.Join(t.TempDir(), "rebuilt.db"), l.cfg.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.CatchUp(ctx, &l.cfg, l.log, size); err != nil {
		t.Fatal(err)
	}
	rebuilt, _ := fresh.Encoded()
	rebuiltRejected, _ := fresh.Rejected()

	for name, got := range map[string]map[string][]byte{"memory replay": mem.Encoded(), "rebuilt index": rebuilt} {
		if len(got) != len(live) {
			t.Errorf("%s has %d objects, live %d", name, len(got), len(live))
		}
		for id, b := range live {
			if !bytes.Equal(got[id], b) {
				t.Errorf("%s: object %s differs from the live state", name, id)
			}
		}
	}
	if len(mem.Rejected) != len(liveRejected) || len(rebuiltRejected) != len(liveRejected) || len(liveRejected) == 0 {
		t.Errorf("rejected on replay: live %d, memory %d, rebuilt %d", len(liveRejected), len(mem.Rejected), len(rebuiltRejected))
	}
}

func roleOf(l *landParties, k *entry.PrivateKey) string {
	switch k {
	case l.reg1, l.reg2:
		return rules.RoleRegistrar
	case l.notary:
		return rules.RoleNotary
	}
	return rules.RoleBank
}

func waitIntegrated(t *testing.T, e *env) uint64 {
	t.Helper()
	// Append a marker through the log, then wait until everything before it is integrated.
	idx, err := e.log.Add(context.Background(), []byte("marker"))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n, err := e.log.IntegratedSize(context.Background()); err == nil && n > idx.Index {
			return n
		}
	}
	t.Fatal("log did not integrate")
	return 0
}

// TestConflictingTransfersInParallel: of many transfers built on the same state,
// exactly one is accepted; the others get stale-prev. Transfers of different
// parcels all succeed.
func TestConflictingTransfersInParallel(t *testing.T) {
	l := newLand(t)
	id := l.parcel()
	const n = 8
	payloads := make([]*entry.Payload, n)
	keys := make([][]*entry.PrivateKey, n)
	for i := range payloads {
		b := key(t)
		payloads[i] = l.payload(entry.TypeLandTransfer, id, &entry.TransferFields{Buyers: []entry.Share{share(b, "1")}})
		keys[i] = []*entry.PrivateKey{l.o1, l.o2, b, l.notary}
	}
	others := make([]string, n)
	for i := range others {
		others[i] = l.parcel()
	}
	var wg sync.WaitGroup
	results := make([]reply, n)
	otherResults := make([]reply, n)
	for i := range n {
		wg.Go(func() { results[i] = l.submit(payloads[i], keys[i]...) })
		op := l.transfer(others[i])
		wg.Go(func() { otherResults[i] = l.submit(op, l.o1, l.o2, l.buyer, l.notary) })
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch {
		case r.Status == http.StatusOK:
			ok++
		case r.Status != http.StatusConflict || r.Code != rules.CodeStalePrev:
			t.Errorf("conflicting transfer: %d %s", r.Status, r.Body)
		}
	}
	if ok != 1 {
		t.Fatalf("%d conflicting transfers accepted, want exactly 1", ok)
	}
	for i, r := range otherResults {
		if r.Status != http.StatusOK {
			t.Errorf("independent transfer of %s: %d %s", others[i], r.Status, r.Body)
		}
	}
}

package registry_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine/enginetest"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// fixture is a registry over a log, with the land registry's root key.
type fixture struct {
	tb    testing.TB
	cfg   rules.Config
	root  *entry.PrivateKey
	store *state.Store
	reg   *registry.Registry
	time  int64
}

const baseTime = 1_700_000_000

func key(tb testing.TB) *entry.PrivateKey {
	tb.Helper()
	k, err := entry.GenerateKey(entry.KeyEd25519)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// openPOSIX opens a real POSIX log in a fresh folder, closed at the end of the test.
func openPOSIX(tb testing.TB, origin string, opts engine.Options) *engine.Log {
	tb.Helper()
	return enginetest.OpenPOSIX(tb, origin, opts)
}

// newFixture opens a land registry over lg with a fresh state index.
func newFixture(tb testing.TB, origin string, lg registry.Log) *fixture {
	tb.Helper()
	f := &fixture{tb: tb, root: key(tb), time: baseTime}
	f.cfg = rules.Config{Log: origin, Kind: rules.KindLand, Roots: []entry.PublicKey{f.root.Public}, RecoveryWait: 3600}
	var err error
	if f.store, err = state.Open(filepath.Join(tb.TempDir(), "state.db"), origin); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.store.Close() })
	f.reg, err = registry.Open(context.Background(), f.cfg, lg, f.store, registry.Options{Now: func() time.Time { return time.Unix(baseTime+1e6, 0) }, Logger: testLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// grant returns an entry, signed by the root key alone, that grants role to a
// fresh key: every call names a new object.
func (f *fixture) grant(role string) []byte {
	f.tb.Helper()
	return f.grantTo(role, key(f.tb).Public)
}

func (f *fixture) grantTo(role string, holder entry.PublicKey) []byte {
	f.tb.Helper()
	return f.sign(&entry.Payload{Log: f.cfg.Log, Type: entry.TypeRoleGrant, Object: "role/" + role + "/" + string(holder),
		Time: f.tick(), Fields: &entry.RoleFields{Role: role, Holder: holder}}, f.root)
}

// revoke returns an entry revoking holder's role, built on the entry prev of
// the role object; every call gives different bytes.
func (f *fixture) revoke(role string, holder entry.PublicKey, prev []byte) []byte {
	f.tb.Helper()
	return f.sign(&entry.Payload{Log: f.cfg.Log, Type: entry.TypeRoleRevoke, Object: "role/" + role + "/" + string(holder), Prev: prev,
		Time: f.tick(), Fields: &entry.RoleFields{Role: role, Holder: holder}}, f.root)
}

// submitAll submits every entry from its own goroutine, all at once.
func (f *fixture) submitAll(raws [][]byte) ([]*registry.Receipt, []error) {
	rcs, errs := make([]*registry.Receipt, len(raws)), make([]error, len(raws))
	var wg sync.WaitGroup
	for i, raw := range raws {
		wg.Go(func() { rcs[i], errs[i] = f.reg.Submit(context.Background(), raw, false) })
	}
	wg.Wait()
	return rcs, errs
}

func (f *fixture) tick() int64 { f.time++; return f.time }

func (f *fixture) sign(p *entry.Payload, keys ...*entry.PrivateKey) []byte {
	f.tb.Helper()
	raw, err := entry.New(p, keys...)
	if err != nil {
		f.tb.Fatalf("build %s: %v", p.Type, err)
	}
	return raw
}

// testLogger shows the registry's resyncs with go test -v.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// faultLog is a log with injectable faults. Enqueue is called with the
// registry's mutex held, so calls are numbered in the order of the pipeline.
type faultLog struct {
	*engine.Log
	calls atomic.Int64
	// fault, if set, may return the future of a failed call; nil passes the
	// call to the log.
	fault func(call int64, data []byte) engine.Future
}

func (f *faultLog) Enqueue(ctx context.Context, data []byte) (engine.Future, error) {
	n := f.calls.Add(1) - 1
	if f.fault != nil {
		if fut := f.fault(n, data); fut != nil {
			return fut, nil
		}
	}
	return f.Log.Enqueue(ctx, data)
}

// failed returns a future that resolves to err once gate is closed (at once if
// gate is nil).
func failed(err error, gate <-chan struct{}) engine.Future {
	return func() (engine.Index, error) {
		if gate != nil {
			<-gate
		}
		return engine.Index{}, err
	}
}

// checkReplay checks that the registry's state index equals a fresh replay of
// what the log holds up to the index's position, object by object and refusal
// by refusal, as an auditor computes it.
func checkReplay(t *testing.T, f *fixture, lg registry.Log) {
	t.Helper()
	ctx := context.Background()
	meta, err := f.store.Meta()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, err := lg.IntegratedSize(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n >= meta.Size {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log integrated %d entries, the state index is at %d", n, meta.Size)
		}
	}
	mem := rules.NewMemory()
	if err := lg.ReadEntries(ctx, 0, meta.Size, func(i uint64, data []byte) error { return mem.Replay(&f.cfg, data, i) }); err != nil {
		t.Fatal(err)
	}
	live, err := f.store.Encoded()
	if err != nil {
		t.Fatal(err)
	}
	replayed := mem.Encoded()
	if len(live) != len(replayed) {
		t.Errorf("live state has %d objects, the replay %d", len(live), len(replayed))
	}
	for id, b := range live {
		if !bytes.Equal(replayed[id], b) {
			t.Errorf("object %s differs between live state and replay", id)
		}
	}
	rejected, err := f.store.Rejected()
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != len(mem.Rejected) {
		t.Errorf("live state recorded %d refusals, the replay %d", len(rejected), len(mem.Rejected))
	}
	for i, r := range mem.Rejected {
		if rejected[i] == nil || rejected[i].Code != r.Code {
			t.Errorf("entry %d: replay refused it with %s, live state recorded %v", i, r.Code, rejected[i])
		}
	}
	if mem.Meta != meta {
		t.Errorf("live meta %+v, replayed %+v", meta, mem.Meta)
	}
}

// entryAt returns the log's entry at index.
func entryAt(t *testing.T, lg registry.Log, index uint64) []byte {
	t.Helper()
	var got []byte
	err := lg.ReadEntries(context.Background(), index, index+1, func(_ uint64, data []byte) error { got = data; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

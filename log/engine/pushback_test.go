package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
	"github.com/transparency-dev/tessera"
)

// fakeDriver is a tessera driver that sequences entries at once but integrates
// them only when told to, like tessera's GCP and AWS drivers under load. It pushes
// back, as they do, once more than PushbackMaxOutstanding entries await integration.
//
// tessera's POSIX driver never pushes back: it integrates each batch as it
// sequences it and ignores PushbackMaxOutstanding.
type fakeDriver struct {
	mu         sync.Mutex
	maxOut     uint64
	next       uint64 // first unassigned index
	integrated uint64 // tree size
	checkpoint []byte
	newCP      func(context.Context, uint64, []byte) ([]byte, error)
	pushedBack int
}

func (d *fakeDriver) Appender(ctx context.Context, opts *tessera.AppendOptions) (*tessera.Appender, tessera.LogReader, error) {
	d.maxOut = uint64(opts.PushbackMaxOutstanding())
	d.newCP = opts.CheckpointPublisher(d, http.DefaultClient)
	return &tessera.Appender{Add: d.add}, d, nil
}

func (d *fakeDriver) add(_ context.Context, e *tessera.Entry) tessera.IndexFuture {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.next-d.integrated >= d.maxOut {
		return func() (tessera.Index, error) { return tessera.Index{}, tessera.ErrPushbackIntegration }
	}
	i := d.next
	d.next++
	_ = e.MarshalBundleData(i)
	return func() (tessera.Index, error) { return tessera.Index{Index: i}, nil }
}

// integrate integrates every sequenced entry and publishes a checkpoint for it.
func (d *fakeDriver) integrate(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	d.integrated = d.next
	size := d.integrated
	d.mu.Unlock()
	// The publisher reads the previous checkpoint back through d.
	cp, err := d.newCP(context.Background(), size, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.checkpoint = cp
	d.mu.Unlock()
}

func (d *fakeDriver) ReadCheckpoint(context.Context) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.checkpoint == nil {
		return nil, os.ErrNotExist
	}
	return d.checkpoint, nil
}

func (d *fakeDriver) ReadTile(context.Context, uint64, uint64, uint8) ([]byte, error) {
	return nil, os.ErrNotExist
}

func (d *fakeDriver) ReadEntryBundle(context.Context, uint64, uint8) ([]byte, error) {
	return nil, os.ErrNotExist
}

func (d *fakeDriver) IntegratedSize(context.Context) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.integrated, nil
}

func (d *fakeDriver) NextIndex(context.Context) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.next, nil
}

func openFake(t *testing.T, d *fakeDriver, o Options) *Log {
	t.Helper()
	skey, vkey := testKey(t, "example.com/fake")
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := open(context.Background(), d, nil, signer, vkey, fastOptions(o), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.integrate(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// TestPushbackWhenIntegrationLags checks that Options.PushbackMaxOutstanding
// reaches tessera and that tessera's pushback comes out of Add as ErrPushback,
// the sentinel callers turn into 503 with Retry-After.
func TestPushbackWhenIntegrationLags(t *testing.T) {
	const maxOut = 3
	d := &fakeDriver{}
	l := openFake(t, d, Options{PushbackMaxOutstanding: maxOut})
	d.integrate(t)

	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = l.Add(context.Background(), entryData("pushback", i)) })
	}
	wg.Wait()
	var ok, pushed int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrPushback):
			pushed++
		default:
			t.Errorf("Add %d: %v, want nil or ErrPushback", i, err)
		}
	}
	if ok != maxOut || pushed != n-maxOut {
		t.Fatalf("%d Adds accepted and %d pushed back, want %d and %d", ok, pushed, maxOut, n-maxOut)
	}

	// Once the backlog is integrated the log accepts entries again.
	d.integrate(t)
	idx, err := l.Add(t.Context(), []byte("after the backlog"))
	if err != nil {
		t.Fatalf("Add after integration: %v", err)
	}
	if idx.Index != maxOut {
		t.Fatalf("Add after integration got index %d, want %d", idx.Index, maxOut)
	}
	d.integrate(t)
	cp, err := l.AwaitPublished(t.Context(), idx.Index)
	if err != nil {
		t.Fatal(err)
	}
	if c := openCheckpoint(t, l, cp); c.Size != maxOut+1 {
		t.Fatalf("AwaitPublished returned a checkpoint of size %d, want %d", c.Size, maxOut+1)
	}
}

// TestErrorsOtherThanPushbackAreNotPushback guards the mapping the other way: a
// storage failure must not tell clients to simply retry later.
func TestErrorsOtherThanPushbackAreNotPushback(t *testing.T) {
	d := &fakeDriver{}
	l := openFake(t, d, Options{})
	broken := errors.New("disk on fire")
	l.add = func(context.Context, *tessera.Entry) tessera.IndexFuture {
		return func() (tessera.Index, error) { return tessera.Index{}, broken }
	}
	_, err := l.Add(t.Context(), []byte("x"))
	if !errors.Is(err, broken) || errors.Is(err, ErrPushback) {
		t.Fatalf("Add with a failing driver: %v, want the driver's error and not ErrPushback", err)
	}
}

// TestMaxPendingPushesBack checks the engine's own bound on entries waiting for
// their index, which tessera's POSIX driver does not have: beyond MaxPending,
// Enqueue refuses at once with ErrPushback, and accepts again once they resolve.
func TestMaxPendingPushesBack(t *testing.T) {
	skey, _ := testKey(t, "example.com/pending")
	l := openTestLog(t, t.TempDir(), skey, Options{MaxPending: 4, BatchMaxAge: 300 * time.Millisecond, BatchMaxSize: 1000, NoAntispam: true})
	ctx := context.Background()
	var futures []Future
	for i := 0; i < 4; i++ {
		f, err := l.Enqueue(ctx, []byte(fmt.Sprintf("pending %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	if f, err := l.Enqueue(ctx, []byte("one too many")); f != nil || !errors.Is(err, ErrPushback) {
		t.Fatalf("fifth pending entry: %v, want ErrPushback", err)
	}
	for i, f := range futures {
		idx, err := f()
		if err != nil || idx.Index != uint64(i) {
			t.Fatalf("future %d = %+v, %v; want index %d in enqueue order", i, idx, err, i)
		}
	}
	if idx, err := l.Add(ctx, []byte("after the queue drained")); err != nil || idx.Index != 4 {
		t.Fatalf("Add after draining = %+v, %v; want index 4", idx, err)
	}
}

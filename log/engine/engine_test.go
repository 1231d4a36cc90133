package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log"
)

// fastOptions keeps the write path quick enough for tests: short batches, frequent
// checkpoints and polls.
func fastOptions(o Options) Options {
	if o.BatchMaxAge == 0 {
		o.BatchMaxAge = 10 * time.Millisecond
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = 100 * time.Millisecond
	}
	if o.AwaitPoll == 0 {
		o.AwaitPoll = 10 * time.Millisecond
	}
	return o
}

func testKey(t testing.TB, name string) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := log.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

// openTestLog opens a POSIX log in dir and closes it when the test ends. The log
// runs on a background context: t.Context is cancelled before cleanups run, which
// would stop tessera before Close could flush it.
func openTestLog(t testing.TB, dir, skey string, o Options) *Log {
	t.Helper()
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := log.VerifierKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenPOSIX(context.Background(), POSIXConfig{
		Dir:     dir,
		Signer:  signer,
		VKey:    vkey,
		Options: fastOptions(o),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("OpenPOSIX: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func entryData(prefix string, i int) []byte { return fmt.Appendf(nil, "%s entry %d", prefix, i) }

// addAll adds every entry concurrently and returns the index of each.
func addAll(t testing.TB, l *Log, entries [][]byte) []uint64 {
	t.Helper()
	idx := make([]uint64, len(entries))
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Go(func() {
			var got Index
			got, errs[i] = l.Add(context.Background(), e)
			if got.Dup {
				errs[i] = fmt.Errorf("entry %d reported as a duplicate", i)
			}
			idx[i] = got.Index
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return idx
}

// openCheckpoint verifies a checkpoint note with the log's own verifier key.
func openCheckpoint(t testing.TB, l *Log, cp []byte) log.Checkpoint {
	t.Helper()
	v, err := log.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := log.OpenCheckpoint(cp, l.Origin(), v)
	if err != nil {
		t.Fatalf("checkpoint does not verify: %v\n%s", err, cp)
	}
	return c
}

// readAll returns the entries [0, size) of the log.
func readAll(t testing.TB, l *Log, size uint64) [][]byte {
	t.Helper()
	var got [][]byte
	err := l.ReadEntries(context.Background(), 0, size, func(i uint64, data []byte) error {
		if i != uint64(len(got)) {
			return fmt.Errorf("ReadEntries called back with index %d, want %d", i, len(got))
		}
		got = append(got, bytes.Clone(data))
		return nil
	})
	if err != nil {
		t.Fatalf("ReadEntries(0, %d): %v", size, err)
	}
	return got
}

// treeHash is the RFC 6962 Merkle tree hash of entries, computed independently of
// tessera.
func treeHash(entries [][]byte) [32]byte {
	switch len(entries) {
	case 0:
		return log.EmptyRoot
	case 1:
		return log.LeafHash(entries[0])
	}
	k := 1
	for k*2 < len(entries) {
		k *= 2
	}
	l, r := treeHash(entries[:k]), treeHash(entries[k:])
	return sha256.Sum256(slices.Concat([]byte{1}, l[:], r[:]))
}

// checkLog checks that the published checkpoint cp verifies and that its root is
// the tree hash of exactly want, read back from the log.
func checkLog(t testing.TB, l *Log, cp []byte, want [][]byte) {
	t.Helper()
	c := openCheckpoint(t, l, cp)
	if c.Size != uint64(len(want)) {
		t.Fatalf("checkpoint size %d, want %d", c.Size, len(want))
	}
	got := readAll(t, l, c.Size)
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("entry %d is %q, want %q", i, got[i], want[i])
		}
	}
	if c.Hash != treeHash(want) {
		t.Fatalf("checkpoint root %x is not the tree hash %x of the added entries", c.Hash, treeHash(want))
	}
}

func TestSequentialAddsGetIncreasingIndices(t *testing.T) {
	l := openTestLog(t, t.TempDir(), mustSKey(t), Options{NoAntispam: true})
	var prev Index
	for i := range 5 {
		got, err := l.Add(t.Context(), entryData("seq", i))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && got.Index <= prev.Index {
			t.Fatalf("Add %d returned index %d after %d", i, got.Index, prev.Index)
		}
		if got.Dup {
			t.Fatalf("Add %d: Dup set for a new entry", i)
		}
		prev = got
	}
}

func mustSKey(t testing.TB) string {
	skey, _ := testKey(t, "example.com/test")
	return skey
}

// TestAddPublishRead adds entries across several entry bundles and checks that the
// indices are exactly [0, n), the published checkpoint verifies and covers them,
// and the entries read back are the very data added, at the very indices returned.
func TestAddPublishRead(t *testing.T) {
	l := openTestLog(t, t.TempDir(), mustSKey(t), Options{})
	const n = 600 // entry bundles hold 256 entries: two full bundles and a partial one
	entries := make([][]byte, n)
	for i := range entries {
		entries[i] = entryData("bundles", i)
	}
	idx := addAll(t, l, entries)

	if got := slices.Sorted(slices.Values(idx)); !slices.Equal(got, seq(0, n)) {
		t.Fatalf("indices are not exactly 0..%d: %v", n-1, got)
	}
	byIndex := make([][]byte, n)
	for i, j := range idx {
		byIndex[j] = entries[i]
	}
	last := slices.Max(idx)
	cp, err := l.AwaitPublished(t.Context(), last)
	if err != nil {
		t.Fatal(err)
	}
	if c := openCheckpoint(t, l, cp); c.Size <= last {
		t.Fatalf("AwaitPublished(%d) returned a checkpoint of size %d", last, c.Size)
	}
	checkLog(t, l, cp, byIndex)

	// A sub-range that starts and ends inside bundles.
	var got []uint64
	err = l.ReadEntries(t.Context(), 250, 520, func(i uint64, data []byte) error {
		if !bytes.Equal(data, byIndex[i]) {
			return fmt.Errorf("entry %d is %q, want %q", i, data, byIndex[i])
		}
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, seq(250, 520)) {
		t.Fatalf("ReadEntries(250, 520) visited %v", got)
	}
	if err := l.ReadEntries(t.Context(), 0, n+1, func(uint64, []byte) error { return nil }); err == nil {
		t.Fatal("ReadEntries beyond the integrated size succeeded")
	}
	stop := errors.New("stop")
	calls := 0
	err = l.ReadEntries(t.Context(), 0, n, func(uint64, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("ReadEntries with a failing callback: %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func seq(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func TestAwaitPublishedHonoursContext(t *testing.T) {
	l := openTestLog(t, t.TempDir(), mustSKey(t), Options{NoAntispam: true})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	// Index 10 is never added, so no checkpoint will ever cover it.
	if _, err := l.AwaitPublished(ctx, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AwaitPublished of an index never added: %v, want DeadlineExceeded", err)
	}
}

// TestRestartKeepsSizeRootAndKey closes a log and reopens its folder: the published
// tree, its origin and its key are unchanged, and new entries follow the old ones.
// Antispam is off: Badger's directory lock cannot be released within a process.
func TestRestartKeepsSizeRootAndKey(t *testing.T) {
	dir := t.TempDir()
	skey, vkey := testKey(t, "example.com/restart")
	o := Options{NoAntispam: true}

	first := make([][]byte, 300)
	for i := range first {
		first[i] = entryData("before", i)
	}
	l1 := openTestLog(t, dir, skey, o)
	idx := addAll(t, l1, first)
	ordered := make([][]byte, len(first))
	for i, j := range idx {
		ordered[j] = first[i]
	}
	if err := l1.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Close waits for a checkpoint covering every acknowledged entry.
	cp1, err := l1.Reader().ReadCheckpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, l1, cp1, ordered)
	c1 := openCheckpoint(t, l1, cp1)

	l2 := openTestLog(t, dir, skey, o)
	if l2.Origin() != l1.Origin() || l2.VerifierKey() != vkey {
		t.Fatalf("reopened log has origin %q and key %q, want %q and %q", l2.Origin(), l2.VerifierKey(), l1.Origin(), vkey)
	}
	cp2, err := l2.Reader().ReadCheckpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c2 := openCheckpoint(t, l2, cp2); c2.Size != c1.Size || c2.Hash != c1.Hash {
		t.Fatalf("after restart the checkpoint is %d %x, want %d %x", c2.Size, c2.Hash, c1.Size, c1.Hash)
	}
	if n, err := l2.IntegratedSize(t.Context()); err != nil || n != c1.Size {
		t.Fatalf("IntegratedSize after restart = %d, %v; want %d", n, err, c1.Size)
	}

	second := make([][]byte, 50)
	for i := range second {
		second[i] = entryData("after", i)
	}
	idx = addAll(t, l2, second)
	if got := slices.Sorted(slices.Values(idx)); !slices.Equal(got, seq(c1.Size, c1.Size+50)) {
		t.Fatalf("entries added after restart got indices %v, want %d..%d", got, c1.Size, c1.Size+49)
	}
	ordered = append(ordered, make([][]byte, len(second))...)
	for i, j := range idx {
		ordered[j] = second[i]
	}
	cp3, err := l2.AwaitPublished(t.Context(), slices.Max(idx))
	if err != nil {
		t.Fatal(err)
	}
	// The old key still verifies the grown tree, which holds the old entries
	// unchanged followed by the new ones.
	checkLog(t, l1, cp3, ordered)
}

func TestAntispamReturnsTheFirstIndex(t *testing.T) {
	l := openTestLog(t, t.TempDir(), mustSKey(t), Options{})
	ctx := t.Context()
	first, err := l.Add(ctx, []byte("hello"))
	if err != nil || first.Dup {
		t.Fatalf("first Add = %+v, %v", first, err)
	}
	if _, err := l.Add(ctx, []byte("other")); err != nil {
		t.Fatal(err)
	}
	again, err := l.Add(ctx, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if again != (Index{Index: first.Index, Dup: true}) {
		t.Fatalf("second Add of the same data = %+v, want index %d with Dup", again, first.Index)
	}

	// Concurrent submissions of one new entry: one index, exactly one original.
	const n = 20
	res := make([]Index, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if res[i], err = l.Add(ctx, []byte("racing")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	originals := 0
	for _, r := range res {
		if r.Index != res[0].Index {
			t.Fatalf("concurrent duplicates got different indices: %+v", res)
		}
		if !r.Dup {
			originals++
		}
	}
	if originals != 1 {
		t.Fatalf("%d of %d concurrent duplicates were reported as new, want 1", originals, n)
	}

	cp, err := l.AwaitPublished(ctx, res[0].Index)
	if err != nil {
		t.Fatal(err)
	}
	// Duplicates were not appended: the log holds three entries.
	checkLog(t, l, cp, [][]byte{[]byte("hello"), []byte("other"), []byte("racing")})
}

func TestEntrySizeLimit(t *testing.T) {
	l := openTestLog(t, t.TempDir(), mustSKey(t), Options{NoAntispam: true})
	if _, err := l.Add(t.Context(), make([]byte, MaxEntrySize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Add of %d bytes: %v, want ErrTooLarge", MaxEntrySize+1, err)
	}
	largest := bytes.Repeat([]byte{0xa5}, MaxEntrySize)
	got, err := l.Add(t.Context(), largest)
	if err != nil {
		t.Fatalf("Add of exactly MaxEntrySize bytes: %v", err)
	}
	cp, err := l.AwaitPublished(t.Context(), got.Index)
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, l, cp, [][]byte{largest})
}

func TestAddAfterClose(t *testing.T) {
	l := openTestLog(t, t.TempDir(), mustSKey(t), Options{NoAntispam: true})
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Add(t.Context(), []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v, want ErrClosed", err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestCloseLosesNoAcknowledgedEntry races Close against many Adds: each either
// fails with ErrClosed or returns an index at which its entry is then in the log,
// covered by the checkpoint Close waited for.
func TestCloseLosesNoAcknowledgedEntry(t *testing.T) {
	// A long batch age keeps Adds queued inside tessera while Close starts.
	l := openTestLog(t, t.TempDir(), mustSKey(t), Options{NoAntispam: true, BatchMaxAge: 300 * time.Millisecond})
	const n = 200
	type result struct {
		idx Index
		err error
	}
	res := make([]result, n)
	var wg, enqueued sync.WaitGroup
	// The first half is enqueued before Close begins, so that Close certainly
	// has entries in flight to wait for; the second half races Close.
	for i := range n / 2 {
		enqueued.Add(1)
		wg.Go(func() {
			f, err := l.Enqueue(context.Background(), entryData("close", i))
			enqueued.Done()
			if err != nil {
				res[i] = result{err: err}
				return
			}
			idx, err := f()
			res[i] = result{idx, err}
		})
	}
	enqueued.Wait()
	closed := make(chan error, 1)
	go func() { closed <- l.Close(context.Background()) }()
	for i := n / 2; i < n; i++ {
		wg.Go(func() {
			idx, err := l.Add(context.Background(), entryData("close", i))
			res[i] = result{idx, err}
		})
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()

	cp, err := l.Reader().ReadCheckpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := openCheckpoint(t, l, cp)
	entries := readAll(t, l, c.Size)
	acked := 0
	for i, r := range res {
		switch {
		case errors.Is(r.err, ErrClosed):
		case r.err != nil:
			t.Errorf("Add %d: %v, want success or ErrClosed", i, r.err)
		case r.idx.Index >= c.Size:
			t.Errorf("Add %d acknowledged index %d, but Close left a checkpoint of size %d", i, r.idx.Index, c.Size)
		case !bytes.Equal(entries[r.idx.Index], entryData("close", i)):
			t.Errorf("Add %d acknowledged index %d, which holds %q", i, r.idx.Index, entries[r.idx.Index])
		default:
			acked++
		}
	}
	if acked < n/2 {
		t.Fatalf("%d entries acknowledged, but the %d enqueued before Close began must all be", acked, n/2)
	}
	t.Logf("%d Adds acknowledged, %d refused with ErrClosed", acked, n-acked)
}

// TestReopenUnderAnotherIdentityIsRefused: a folder holding one log must not be
// reopened under another key or origin, which tessera would silently accept and
// then re-sign the same tree as a different log.
func TestReopenUnderAnotherIdentityIsRefused(t *testing.T) {
	dir := t.TempDir()
	skey, _ := testKey(t, "example.com/identity")
	l := openTestLog(t, dir, skey, Options{NoAntispam: true})
	if _, err := l.Add(t.Context(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	sameName, _ := testKey(t, "example.com/identity")
	otherName, _ := testKey(t, "example.com/other")
	for name, skey := range map[string]string{"same origin, new key": sameName, "other origin": otherName} {
		t.Run(name, func(t *testing.T) {
			signer, err := log.NewSigner(skey)
			if err != nil {
				t.Fatal(err)
			}
			vkey, err := log.VerifierKey(skey)
			if err != nil {
				t.Fatal(err)
			}
			l, err := OpenPOSIX(context.Background(), POSIXConfig{Dir: dir, Signer: signer, VKey: vkey, Options: fastOptions(Options{NoAntispam: true})})
			if !errors.Is(err, ErrIdentity) {
				if err == nil {
					l.Close(context.Background())
				}
				t.Fatalf("OpenPOSIX under another identity: %v, want ErrIdentity", err)
			}
		})
	}
}

func TestVerifierKeyMustMatchSigner(t *testing.T) {
	skey, _ := testKey(t, "example.com/mismatch")
	_, otherVKey := testKey(t, "example.com/mismatch")
	signer, err := log.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	for _, vkey := range []string{otherVKey, "", "not a key"} {
		l, err := OpenPOSIX(context.Background(), POSIXConfig{Dir: t.TempDir(), Signer: signer, VKey: vkey, Options: fastOptions(Options{NoAntispam: true})})
		if !errors.Is(err, ErrIdentity) {
			if err == nil {
				l.Close(context.Background())
			}
			t.Fatalf("OpenPOSIX with verifier key %q: %v, want ErrIdentity", vkey, err)
		}
	}
}

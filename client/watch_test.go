package client

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tabularium/tabularium/personality/entry"
)

func TestWatchReportsChangesToAWatchedParcelOnly(t *testing.T) {
	r := newRegistry(t)
	owner, buyer, other := testKey(t), testKey(t), testKey(t)
	r.parcel("land/7", owner)
	r.parcel("land/8", other)
	r.grow(150) // the watch starts inside the second bundle
	var v tileView
	v.show(r.l)
	f := v.serve(t)
	ls, err := OpenLastSeen(filepath.Join(t.TempDir(), "last-seen.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []Change
	opts := WatchOptions{Policy: r.l.policy(), LastSeen: ls, Once: true, Now: func() time.Time { return testNow },
		Report: func(c Change) error { got = append(got, c); return nil }}
	watch := func(from uint64, filter WatchFilter) uint64 {
		t.Helper()
		next, err := Watch(context.Background(), f, testOrigin, filter, from, opts)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	parcel := WatchFilter{Objects: []string{"land/7"}}
	next := watch(uint64(len(r.l.entries)), parcel)
	if len(got) != 0 || next != uint64(len(r.l.entries)) {
		t.Fatalf("nothing new, yet %d changes, next %d", len(got), next)
	}
	sold := r.transfer("land/7", buyer, owner, buyer, r.reg)
	r.transfer("land/8", buyer, other, buyer, r.reg)
	pledged := r.add(entry.TypeLandPledge, "land/7", &entry.PledgeFields{Pledgee: r.bank.Public}, buyer, r.bank, r.reg)
	r.grow(2)
	v.show(r.l)
	next = watch(next, parcel)
	if len(got) != 2 || got[0].Index != sold || got[1].Index != pledged || next != uint64(len(r.l.entries)) {
		t.Fatalf("changes %v", got)
	}
	if s := got[0].String(); !strings.Contains(s, "land.transfer land/7") || !strings.Contains(s, string(buyer.Public)) {
		t.Errorf("transfer described as %q", s)
	}
	if s := got[1].String(); !strings.Contains(s, "land.pledge land/7") || !strings.Contains(s, string(r.bank.Public)) {
		t.Errorf("pledge described as %q", s)
	}

	// Watching the buyer's key from the start finds the purchase (named as
	// buyer and signer), the sale of land/8 and the pledge.
	got = nil
	watch(0, WatchFilter{Keys: []entry.PublicKey{buyer.Public}})
	if len(got) != 3 || got[0].Index != sold || got[2].Index != pledged {
		t.Fatalf("key changes %v", got)
	}
}

func TestWatchDetectsAForkedLog(t *testing.T) {
	r := newRegistry(t)
	r.grow(3)
	var v tileView
	v.show(r.l)
	f := v.serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := Watch(ctx, f, testOrigin, WatchFilter{Objects: []string{"land/x"}}, 0, WatchOptions{
			Policy: r.l.policy(), Interval: 5 * time.Millisecond, Now: func() time.Time { return testNow },
			Report: func(Change) error { return nil }})
		errc <- err
	}()
	// The watcher reads the checkpoint again only after it has verified the
	// first one and read its entries: from then on the fork is a split view.
	for deadline := time.Now().Add(10 * time.Second); v.checkpointsServed() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not read the log twice")
		}
	}
	fork := r.l.fork(4)
	for range 6 {
		fork.addEntry("land/forged")
	}
	v.show(fork)
	select {
	case err := <-errc:
		var fe *ForkError
		if !errors.Is(err, ErrSplitView) || !errors.As(err, &fe) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not notice the fork")
	}
}

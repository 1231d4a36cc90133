package state

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"sync"
)

// locker is how the writers sharing an index take turns.
type locker interface {
	// lock blocks until the caller holds the lock, or ctx ends; it returns the
	// function that releases it.
	lock(ctx context.Context) (func(), error)
}

// Lock blocks until the caller holds the index's writer lock, or ctx ends, and
// returns the function that releases it. On MySQL it is a database lock that
// every front end of the log takes (GET_LOCK, released by the server if the
// holder's connection drops); on SQLite it serialises only the writers in this
// process, which is enough for the one process that may write a SQLite index.
//
// The lock is advisory: the writes that follow still check the index's
// position (ErrStale), so a holder that lost its lock mid-way cannot corrupt
// the index, only fail.
func (s *Store) Lock(ctx context.Context) (func(), error) { return s.lock.lock(ctx) }

// driverBad makes database/sql discard a connection on Close instead of
// pooling it.
var driverBad = driver.ErrBadConn

var processLocks sync.Map // absolute SQLite path -> *chanLock

// processLock returns the in-process lock of a SQLite file.
func processLock(path string) locker {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	l, _ := processLocks.LoadOrStore(path, &chanLock{ch: make(chan struct{}, 1)})
	return l.(*chanLock)
}

// chanLock is a mutex whose acquisition can be abandoned when ctx ends.
type chanLock struct{ ch chan struct{} }

func (l *chanLock) lock(ctx context.Context) (func(), error) {
	select {
	case l.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-l.ch }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

package witness

import (
	"context"
	"slices"
	"sync"
)

// Store persists, for each log origin, the latest cosigned checkpoint: a signed
// note carrying the log's signature and the witness's cosignature.
//
// Implementations must be safe for concurrent use, including by several
// processes sharing one database. The conformance suite in package
// witness/storetest checks this contract.
type Store interface {
	// Load returns the note stored for origin, or nil and no error if there is
	// none. A returned error is a storage failure.
	Load(ctx context.Context, origin string) ([]byte, error)

	// Update is a compare-and-swap of the note stored for origin. It reads the
	// current note (nil if none) and calls update with it. If update returns an
	// error, Update stores nothing and returns an error that wraps it. Otherwise
	// Update stores the returned note only if the stored note is still the one
	// update saw; if another writer changed it in the meantime, Update calls
	// update again with the new note. When Update returns nil the new note is
	// durable. update may run several times and must have no side effects.
	Update(ctx context.Context, origin string, update func(current []byte) ([]byte, error)) error
}

// MemoryStore is a Store kept in memory, for tests and for witnesses whose
// state may be lost (development only: a witness that forgets can be rolled
// back).
type MemoryStore struct {
	mu    sync.Mutex
	notes map[string][]byte
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{notes: map[string][]byte{}} }

// Load implements Store.
func (s *MemoryStore) Load(ctx context.Context, origin string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notes[origin]), nil
}

// Update implements Store. It holds a lock while update runs.
func (s *MemoryStore) Update(ctx context.Context, origin string, update func([]byte) ([]byte, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := update(slices.Clone(s.notes[origin]))
	if err != nil {
		return err
	}
	s.notes[origin] = slices.Clone(next)
	return nil
}

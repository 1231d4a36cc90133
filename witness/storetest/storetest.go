// Package storetest is the conformance suite for witness.Store
// implementations: one set of tests, run against every store, that checks the
// compare-and-swap contract c2sp.org/tlog-witness relies on to refuse rollbacks.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/tabularium/tabularium/witness"
)

// Backend creates a fresh, empty backing store for one test and returns a
// function that opens a handle on it. Each call of the function must return a
// new handle on the same data when the implementation supports it (a restart,
// or another process); the handles are closed by the test's cleanups.
type Backend func(t *testing.T) (open func() witness.Store)

// Run runs the conformance suite.
func Run(t *testing.T, backend Backend) {
	tests := map[string]func(*testing.T, func() witness.Store){
		"LoadMissing":        testLoadMissing,
		"UpdateCreates":      testUpdateCreates,
		"UpdateSeesCurrent":  testUpdateSeesCurrent,
		"ErrorAborts":        testErrorAborts,
		"OriginsIndependent": testOriginsIndependent,
		"LargeBinaryNote":    testLargeBinaryNote,
		"ConcurrentUpdates":  testConcurrentUpdates,
		"ReopenKeepsState":   testReopenKeepsState,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) { test(t, backend(t)) })
	}
}

const origin = "example.com/log"

func mustLoad(t *testing.T, s witness.Store, origin string) []byte {
	t.Helper()
	b, err := s.Load(t.Context(), origin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func set(t *testing.T, s witness.Store, origin string, note []byte) {
	t.Helper()
	if err := s.Update(t.Context(), origin, func([]byte) ([]byte, error) { return note, nil }); err != nil {
		t.Fatal(err)
	}
}

func testLoadMissing(t *testing.T, open func() witness.Store) {
	if b := mustLoad(t, open(), origin); b != nil {
		t.Fatalf("Load of a missing origin = %q, want nil", b)
	}
}

func testUpdateCreates(t *testing.T, open func() witness.Store) {
	s := open()
	err := s.Update(t.Context(), origin, func(cur []byte) ([]byte, error) {
		if cur != nil {
			t.Errorf("first update saw %q, want nil", cur)
		}
		return []byte("one\n"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, s, origin); string(got) != "one\n" {
		t.Fatalf("Load = %q", got)
	}
}

func testUpdateSeesCurrent(t *testing.T, open func() witness.Store) {
	s := open()
	set(t, s, origin, []byte("one\n"))
	err := s.Update(t.Context(), origin, func(cur []byte) ([]byte, error) {
		if string(cur) != "one\n" {
			t.Errorf("update saw %q, want one", cur)
		}
		return []byte("two\n"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, s, origin); string(got) != "two\n" {
		t.Fatalf("Load = %q", got)
	}
}

func testErrorAborts(t *testing.T, open func() witness.Store) {
	s := open()
	set(t, s, origin, []byte("kept\n"))
	refuse := errors.New("refused")
	err := s.Update(t.Context(), origin, func([]byte) ([]byte, error) { return []byte("lost\n"), refuse })
	if !errors.Is(err, refuse) {
		t.Fatalf("Update = %v, want the update function's error", err)
	}
	if got := mustLoad(t, s, origin); string(got) != "kept\n" {
		t.Fatalf("Load after a refused update = %q", got)
	}
	// Refusing the first write leaves nothing behind either.
	if err := s.Update(t.Context(), "other", func([]byte) ([]byte, error) { return nil, refuse }); !errors.Is(err, refuse) {
		t.Fatal(err)
	}
	if got := mustLoad(t, s, "other"); got != nil {
		t.Fatalf("Load after a refused first update = %q", got)
	}
}

func testOriginsIndependent(t *testing.T, open func() witness.Store) {
	s := open()
	set(t, s, "a.example/log", []byte("a\n"))
	set(t, s, "b.example/log", []byte("b\n"))
	if a, b := mustLoad(t, s, "a.example/log"), mustLoad(t, s, "b.example/log"); string(a) != "a\n" || string(b) != "b\n" {
		t.Fatalf("Load = %q, %q", a, b)
	}
}

func testLargeBinaryNote(t *testing.T, open func() witness.Store) {
	s := open()
	note := bytes.Repeat([]byte("— \x00\xff\n"), 80<<10/7)
	set(t, s, origin, note)
	if got := mustLoad(t, s, origin); !bytes.Equal(got, note) {
		t.Fatalf("Load returned %d bytes, want the %d stored", len(got), len(note))
	}
}

// testConcurrentUpdates increments a counter from many goroutines over two
// handles: a store without a real compare-and-swap loses increments.
func testConcurrentUpdates(t *testing.T, open func() witness.Store) {
	handles := []witness.Store{open(), open()}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		s := handles[i%len(handles)]
		wg.Go(func() {
			err := s.Update(t.Context(), origin, func(cur []byte) ([]byte, error) {
				c := 0
				if cur != nil {
					var err error
					if c, err = strconv.Atoi(string(cur)); err != nil {
						return nil, err
					}
				}
				return []byte(strconv.Itoa(c + 1)), nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := mustLoad(t, handles[0], origin); string(got) != fmt.Sprint(n) {
		t.Fatalf("counter = %q after %d concurrent increments", got, n)
	}
}

func testReopenKeepsState(t *testing.T, open func() witness.Store) {
	set(t, open(), origin, []byte("durable\n"))
	if got := mustLoad(t, open(), origin); string(got) != "durable\n" {
		t.Fatalf("Load from a new handle = %q", got)
	}
}

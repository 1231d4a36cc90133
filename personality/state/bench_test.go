package state

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tabularium/tabularium/personality/rules"
)

// BenchmarkObject reads objects by ID from an index of 10,000 objects from
// concurrent goroutines: the hot read of rules.Apply and GET /objects.
func BenchmarkObject(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), "example.org/log")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 10000
	var chs []*rules.Changes
	for i := range n {
		chs = append(chs, &rules.Changes{
			Objects: []*rules.Object{{ID: fmt.Sprintf("land/parcel-%d", i), Status: "registered", Latest: uint64(i)}},
			Meta:    rules.Meta{Size: uint64(i + 1)},
		})
	}
	if err := s.CommitAll(chs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			o, err := s.Object(fmt.Sprintf("land/parcel-%d", i%n))
			if err != nil || o == nil {
				b.Fatalf("object %d: %v, %v", i%n, o, err)
			}
			i += 7919
		}
	})
}

// BenchmarkCommitAll commits groups of 256 single-object entries: the
// registry's group commit.
func BenchmarkCommitAll(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), "example.org/log")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	next := 0
	b.ResetTimer()
	for range b.N {
		chs := make([]*rules.Changes, 256)
		for j := range chs {
			chs[j] = &rules.Changes{
				Objects: []*rules.Object{{ID: fmt.Sprintf("v/%d", next), Status: "issued", Latest: uint64(next)}},
				Meta:    rules.Meta{Size: uint64(next + 1)},
			}
			next++
		}
		if err := s.CommitAll(chs); err != nil {
			b.Fatal(err)
		}
	}
}

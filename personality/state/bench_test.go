package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
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

// BenchmarkGroupAtSize is the registry's work on one group of 256 entries in
// an index that already holds 200,000 objects under random keys (as
// vaccination certificates are, by hash): 256 reads of existing objects, then
// one CommitAll of 256 new ones. It shows how the index scales past SQLite's
// page cache.
func BenchmarkGroupAtSize(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), "example.org/log")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	id := func(i int) string {
		h := sha256.Sum256([]byte(strconv.Itoa(i)))
		return "vaccination/" + hex.EncodeToString(h[:])
	}
	group := func(from int) []*rules.Changes {
		chs := make([]*rules.Changes, 256)
		for j := range chs {
			chs[j] = &rules.Changes{
				Objects: []*rules.Object{{ID: id(from + j), Status: "issued", Latest: uint64(from + j), History: []uint64{uint64(from + j)}}},
				Meta:    rules.Meta{Size: uint64(from + j + 1)},
			}
		}
		return chs
	}
	const size = 200_000
	for i := 0; i < size; i += 256 {
		if err := s.CommitAll(group(i)); err != nil {
			b.Fatal(err)
		}
	}
	next := size + 256
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		for range 256 {
			if o, err := s.Object(id(rng.IntN(size))); err != nil || o == nil {
				b.Fatalf("read: %v, %v", o, err)
			}
		}
		if err := s.CommitAll(group(next)); err != nil {
			b.Fatal(err)
		}
		next += 256
	}
}

// BenchmarkVerdict reads the verdict on random entries of an index of 10,000
// entries, 100 of them refused, from concurrent goroutines: what the proof
// endpoint adds to every certificate (a Meta read is skipped once the index
// was seen past the entry).
func BenchmarkVerdict(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), "example.org/log")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 10000
	var meta rules.Meta
	for i := range n {
		if i%100 == 0 {
			if err := s.Reject(uint64(i), meta, &rules.Error{Code: rules.CodeObjectExists, Message: "exists"}); err != nil {
				b.Fatal(err)
			}
			meta = rules.Skip(meta, uint64(i))
			continue
		}
		next := meta
		next.Size = uint64(i + 1)
		if err := s.CommitAllAfter(meta, []*rules.Changes{{Meta: next}}); err != nil {
			b.Fatal(err)
		}
		meta = next
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r, err := s.RejectedAt(uint64(i % n))
			if err != nil || (r != nil) != (i%n%100 == 0) {
				b.Fatalf("entry %d: %v, %v", i%n, r, err)
			}
			i += 7919
		}
	})
}

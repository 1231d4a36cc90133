package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// vaccinationIndex is a vaccination registry's SQLite index, fed through the
// rules as the registry feeds it.
type vaccinationIndex struct {
	tb             testing.TB
	cfg            rules.Config
	s              *Store
	meta           rules.Meta
	health, clinic *entry.PrivateKey
	n              int
}

func newVaccinationIndex(tb testing.TB) *vaccinationIndex {
	tb.Helper()
	mk := func() *entry.PrivateKey {
		k, err := entry.GenerateKey(entry.KeyEd25519)
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
	root := mk()
	v := &vaccinationIndex{tb: tb, health: mk(), clinic: mk()}
	v.cfg = rules.Config{Log: "tabularium.local/vaccinations", Kind: rules.KindVaccinations, Roots: []entry.PublicKey{root.Public}}
	s, err := Open(filepath.Join(tb.TempDir(), "state.db"), v.cfg.Log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	v.s = s
	grant := func(role string, holder, by *entry.PrivateKey) {
		v.commit(v.apply(&entry.Payload{Type: entry.TypeRoleGrant, Object: "role/" + role + "/" + string(holder.Public),
			Fields: &entry.RoleFields{Role: role, Holder: holder.Public}}, by))
	}
	grant(rules.RoleHealth, v.health, root)
	grant(rules.RoleVaccinationIs, v.clinic, v.health)
	return v
}

// apply signs p, judges it at the next position against the index (the
// signatures are not verified: that cost does not depend on the batch) and
// returns its changes.
func (v *vaccinationIndex) apply(p *entry.Payload, k *entry.PrivateKey) *rules.Changes {
	p.Log, p.Time = v.cfg.Log, 1_700_000_000+int64(v.meta.Size)
	if o, err := v.s.Object(p.Object); err == nil && o != nil {
		p.Prev = o.Hash
	}
	raw, err := entry.New(p, k)
	if err != nil {
		v.tb.Fatal(err)
	}
	e, err := entry.Decode(raw, 0)
	if err != nil {
		v.tb.Fatal(err)
	}
	ch, rerr := rules.Apply(&v.cfg, v.s, v.meta, e, v.meta.Size)
	if rerr != nil {
		v.tb.Fatalf("%s on %s: %v", p.Type, p.Object, rerr)
	}
	v.meta = ch.Meta
	return ch
}

func (v *vaccinationIndex) commit(chs ...*rules.Changes) {
	if err := v.s.CommitAll(chs); err != nil {
		v.tb.Fatal(err)
	}
}

// issue issues n certificates of batch, committing group entries per
// transaction.
func (v *vaccinationIndex) issue(batch string, n, group int) {
	var chs []*rules.Changes
	for range n {
		id := sha256.Sum256(fmt.Appendf(nil, "certificate %d", v.n))
		v.n++
		chs = append(chs, v.apply(&entry.Payload{Type: entry.TypeVaccinationIssue, Object: "vaccination/" + hex.EncodeToString(id[:]),
			Fields: &entry.BatchFields{Batch: batch}, Docs: []entry.Commitment{entry.CommitWithSalt("contents", nil, nil)}}, v.clinic))
		if len(chs) == group {
			v.commit(chs...)
			chs = nil
		}
	}
	if len(chs) > 0 {
		v.commit(chs...)
	}
}

var batchSizes = []int{0, 10_000, 50_000, 200_000}

// BenchmarkIssueIntoOneBatch measures one vaccination.issue — rules.Apply
// against the SQLite index and its commit in a transaction of its own — into
// a batch that already holds n certificates.
func BenchmarkIssueIntoOneBatch(b *testing.B) {
	for _, n := range batchSizes {
		b.Run(fmt.Sprintf("certs=%d", n), func(b *testing.B) {
			v := newVaccinationIndex(b)
			v.issue("B-1", n, 1024)
			b.ResetTimer()
			v.issue("B-1", b.N, 1)
		})
	}
}

// BenchmarkRecallOneBatch measures the recall of a batch of n certificates:
// rules.Apply and its commit. Run it with -benchtime 1x: every iteration
// fills a new batch first.
func BenchmarkRecallOneBatch(b *testing.B) {
	for _, n := range batchSizes[1:] {
		b.Run(fmt.Sprintf("certs=%d", n), func(b *testing.B) {
			v := newVaccinationIndex(b)
			objects := 0
			for i := range b.N {
				batch := fmt.Sprintf("B-%d", i)
				b.StopTimer()
				v.issue(batch, n, 1024)
				b.StartTimer()
				ch := v.apply(&entry.Payload{Type: entry.TypeVaccinationRecall, Object: "batch/" + batch, Fields: &entry.NoFields{}}, v.health)
				v.commit(ch)
				objects += len(ch.Objects)
			}
			b.ReportMetric(float64(objects)/float64(b.N), "objects-written/op")
		})
	}
}

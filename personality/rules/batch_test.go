package rules

import (
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
)

type vaccinations struct {
	*testLog
	health, clinic *entry.PrivateKey
}

func newVaccinations(t testing.TB) *vaccinations {
	v := &vaccinations{testLog: newTestLog(t, KindVaccinations), health: newKey(t), clinic: newKey(t)}
	v.grant(RoleHealth, v.health, v.root)
	v.grant(RoleVaccinationIs, v.clinic, v.health)
	return v
}

func (v *vaccinations) issue(batch string) string {
	v.t.Helper()
	id := v.newID("vaccination")
	v.must(v.payload(entry.TypeVaccinationIssue, id, &entry.BatchFields{Batch: batch}, testDoc("contents")), v.clinic)
	return id
}

func (v *vaccinations) status(id string) string {
	cert := v.object(id)
	return CertificateStatus(cert, v.object(BatchOf(cert)))
}

// TestBatchDoesNotGrow: issuing into a batch leaves the batch object as it
// was, and a recall is one write, whatever the batch holds.
func TestBatchDoesNotGrow(t *testing.T) {
	v := newVaccinations(t)
	first := v.issue("B-1")
	b1, _ := EncodeObject(v.object("batch/B-1"))
	var certs []string
	for range 300 {
		certs = append(certs, v.issue("B-1"))
	}
	other := v.issue("B-2")
	b2, _ := EncodeObject(v.object("batch/B-1"))
	if string(b1) != string(b2) {
		t.Fatalf("the batch object changed with its certificates: %d bytes, then %d", len(b1), len(b2))
	}
	v.must(v.payload(entry.TypeVaccinationRevoke, certs[0], &entry.NoFields{}), v.clinic)

	raw, err := entry.New(v.payload(entry.TypeVaccinationRecall, "batch/B-1", &entry.NoFields{}), v.health)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := entry.Parse(raw)
	ch, rerr := Apply(&v.cfg, v.mem, v.mem.Meta, e, v.mem.Meta.Size)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(ch.Objects) != 1 || ch.Objects[0].ID != "batch/B-1" {
		t.Fatalf("a recall wrote %d objects", len(ch.Objects))
	}
	if err := v.mem.Replay(&v.cfg, raw, v.mem.Meta.Size); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(certs, first) {
		if s := v.status(id); s != StatusRevoked {
			t.Fatalf("%s after the recall: %s", id, s)
		}
		if v.object(id).Status == StatusRevoked && id != certs[0] {
			t.Fatalf("the recall wrote certificate %s", id)
		}
	}
	if s := v.status(other); s != StatusValid {
		t.Fatalf("a certificate of another batch: %s", s)
	}
	v.refused(CodeAlreadyRevoked, v.payload(entry.TypeVaccinationRevoke, certs[1], &entry.NoFields{}), v.clinic)
	v.refused(CodeBatchRecalled, v.payload(entry.TypeVaccinationIssue, v.newID("vaccination"), &entry.BatchFields{Batch: "B-1"}, testDoc("contents")), v.clinic)
	v.refused(CodeAlreadyRevoked, v.payload(entry.TypeVaccinationRecall, "batch/B-1", &entry.NoFields{}), v.health)
}

func TestCertificateStatus(t *testing.T) {
	cert := &Object{ID: "vaccination/ab", Status: StatusValid, Batch: "B", History: []uint64{10}}
	for _, c := range []struct {
		name  string
		cert  *Object
		batch *Object
		want  string
	}{
		{"no batch object", cert, nil, StatusValid},
		{"active batch", cert, &Object{ID: "batch/B", Status: StatusActive}, StatusValid},
		{"recalled after issue", cert, &Object{ID: "batch/B", Status: StatusRecalled, RecalledAt: 11}, StatusRevoked},
		{"recalled before issue", cert, &Object{ID: "batch/B", Status: StatusRecalled, RecalledAt: 9}, StatusValid},
		{"another batch", cert, &Object{ID: "batch/C", Status: StatusRecalled, RecalledAt: 11}, StatusValid},
		{"revoked itself", &Object{ID: "vaccination/ab", Status: StatusRevoked, Batch: "B", History: []uint64{10, 12}}, &Object{ID: "batch/B", Status: StatusActive}, StatusRevoked},
		{"a diploma", &Object{ID: "diploma/ab", Status: StatusValid}, &Object{ID: "batch/B", Status: StatusRecalled, RecalledAt: 11}, StatusValid},
	} {
		if got := CertificateStatus(c.cert, c.batch); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

package state

import (
	"path/filepath"
	"testing"

	"github.com/tabularium/tabularium/personality/rules"
)

// TestCommitAllIsOneGroup: a group commit leaves the index as committing its
// entries one by one would: every object in its last state, the last Meta.
func TestCommitAllIsOneGroup(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), "example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chs := []*rules.Changes{
		{Objects: []*rules.Object{{ID: "a", Status: "one", Latest: 0}, {ID: "b", Latest: 0}}, Meta: rules.Meta{Size: 1, Time: 10}},
		{Objects: []*rules.Object{{ID: "a", Status: "two", Latest: 1}}, Meta: rules.Meta{Size: 2, Time: 11}},
	}
	if err := s.CommitAll(chs); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Object("a"); err != nil || a == nil || a.Status != "two" || a.Latest != 1 {
		t.Errorf("object a: %+v, %v", a, err)
	}
	if b, err := s.Object("b"); err != nil || b == nil {
		t.Errorf("object b: %+v, %v", b, err)
	}
	if m, err := s.Meta(); err != nil || m != chs[1].Meta {
		t.Errorf("meta %+v, %v; want %+v", m, err, chs[1].Meta)
	}
	if err := s.Reject(2, chs[1].Meta, &rules.Error{Code: rules.CodeStalePrev, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.RejectedAt(2); err != nil || r == nil || r.Code != rules.CodeStalePrev {
		t.Errorf("refusal at 2: %+v, %v", r, err)
	}
	if r, err := s.RejectedAt(1); err != nil || r != nil {
		t.Errorf("refusal at 1: %+v, %v", r, err)
	}
}

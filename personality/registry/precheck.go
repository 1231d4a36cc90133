package registry

import (
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// refusal is what rules.Authorize said of an entry outside the serialisation
// point, against the state index alone, with what that answer depended on:
// the objects it read and the version of the index it read them in. Pending
// entries (the overlay, or the earlier entries of a shared group) may have
// changed those objects since, so the refusal stands only once it is
// confirmed where the entry is judged: at once if none of them changed,
// otherwise by judging its authorisation again there — and, if it now
// passes, verifying its signatures there (a rare case: a role or standing
// gained a moment ago).
type refusal struct {
	err     *rules.Error
	ids     []string
	version uint64 // Registry.gen, or the shared index's Meta.Size
}

// recorder is a State that remembers which objects were read.
type recorder struct {
	st  rules.State
	ids []string
}

func (r *recorder) Object(id string) (*rules.Object, error) {
	r.ids = append(r.ids, id)
	return r.st.Object(id)
}

// precheck runs rules.Authorize on the unverified entry against the state
// index and returns its refusal, or nil if it found none (or could not read
// the state: then the entry takes the ordinary path and meets the error
// there).
func (r *Registry) precheck(e *entry.Entry) *refusal {
	var version uint64
	if r.shared != nil {
		m, err := r.store.Meta()
		if err != nil {
			return nil
		}
		version = m.Size
	} else {
		version = r.gen.Load()
	}
	rec := &recorder{st: r.store}
	rerr := rules.Authorize(&r.cfg, rec, e)
	if rerr == nil || rerr.Code == rules.CodeStateUnavailable {
		return nil
	}
	return &refusal{err: rerr, ids: rec.ids, version: version}
}

// confirm decides, where e is judged, against st (the state e is judged
// against), whether the refusal stands: it returns the refusal, or a
// refusal found now, or nil once e's signatures are verified and it may be
// judged. unchanged reports whether the refusal's version is still current
// and changed whether pending entries wrote an object.
func confirm(cfg *rules.Config, st rules.State, e *entry.Entry, pre *refusal, unchanged bool, changed func(id string) bool) *rules.Error {
	if unchanged {
		moved := false
		for _, id := range pre.ids {
			if changed(id) {
				moved = true
				break
			}
		}
		if !moved {
			return pre.err
		}
	}
	if rerr := rules.Authorize(cfg, st, e); rerr != nil {
		return rerr
	}
	if err := e.Verify(); err != nil {
		return rules.FromParse(err)
	}
	return nil
}

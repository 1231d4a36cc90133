package rules

import "sort"

// State is read access to the objects before an entry. Implementations return
// (nil, nil) for an object that does not exist, and an error only for a failure
// to read; the rule engine never modifies what they return.
type State interface {
	Object(id string) (*Object, error)
}

// Changes is what one accepted entry does: the new state of every object it
// touched, sorted by ID, and the new log-wide Meta.
type Changes struct {
	Objects []*Object
	Meta    Meta
}

// Memory is an in-memory State, for auditors and tests: Replay a log into it.
// It is not safe for concurrent use.
type Memory struct {
	objects  map[string][]byte
	Meta     Meta
	Rejected map[uint64]*Error
}

// NewMemory returns an empty state.
func NewMemory() *Memory {
	return &Memory{objects: map[string][]byte{}, Rejected: map[uint64]*Error{}}
}

// Object implements State.
func (m *Memory) Object(id string) (*Object, error) {
	b, ok := m.objects[id]
	if !ok {
		return nil, nil
	}
	return DecodeObject(b)
}

// Encoded returns the canonical encoding of every object, by ID.
func (m *Memory) Encoded() map[string][]byte { return m.objects }

// IDs returns the IDs of every object, sorted.
func (m *Memory) IDs() []string {
	ids := make([]string, 0, len(m.objects))
	for id := range m.objects {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Replay applies the raw entry at index, the next position of the log, and
// records it as rejected if the rules refuse it. It fails only if the state
// cannot be encoded.
func (m *Memory) Replay(cfg *Config, raw []byte, index uint64) error {
	ch, rerr := ApplyRaw(cfg, m, m.Meta, raw, index)
	if rerr != nil {
		m.Rejected[index] = rerr
		m.Meta = Skip(m.Meta, index)
		return nil
	}
	for _, o := range ch.Objects {
		b, err := EncodeObject(o)
		if err != nil {
			return err
		}
		m.objects[o.ID] = b
	}
	m.Meta = ch.Meta
	return nil
}

// Skip returns the Meta after the entry at index was refused.
func Skip(m Meta, index uint64) Meta {
	m.Size = index + 1
	return m
}

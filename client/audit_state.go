package client

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/transparency-dev/merkle/compact"

	"github.com/tabularium/tabularium/personality/rules"
)

// AuditState is an audit's memory between runs, kept in a folder: the last
// checkpoint seen (last-seen.json, a LastSeen store) and audit.json, which
// holds how far the audit got, the compact range of the leaves verified so far,
// the replayed state (every object's canonical encoding, rules.EncodeObject,
// and rules.Meta) and the violations found. audit.json is rewritten atomically,
// so the position and the state always agree; a rerun continues from there.
// One process at a time may use a folder.
type AuditState struct {
	dir      string // "" keeps nothing between runs
	lastSeen *LastSeen
	f        auditFile
}

// auditFile is audit.json.
type auditFile struct {
	Version  int               `json:"version"`
	Origin   string            `json:"origin"`
	Config   string            `json:"config"` // fingerprint of the rules.Config replayed with
	Meta     rules.Meta        `json:"meta"`   // Meta.Size is the next index to audit
	Range    [][]byte          `json:"range"`  // compact range [0, Meta.Size)
	Rejected []Violation       `json:"rejected"`
	Objects  map[string][]byte `json:"objects"` // canonical encodings by ID
}

const auditFileVersion = 1

// maxAuditFileSize bounds audit.json read back.
const maxAuditFileSize = 4 << 30

// OpenAuditState opens (creating it if needed) the audit state in dir. An
// empty dir keeps the state in memory only: every run audits from the start
// and no last checkpoint is remembered.
func OpenAuditState(dir string) (*AuditState, error) {
	s := &AuditState{dir: dir, f: auditFile{Version: auditFileVersion, Objects: map[string][]byte{}}}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit state: %w", err)
	}
	ls, err := OpenLastSeen(filepath.Join(dir, "last-seen.json"))
	if err != nil {
		return nil, err
	}
	s.lastSeen = ls
	path := filepath.Join(dir, "audit.json")
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit state: %w", err)
	}
	if fi.Size() > maxAuditFileSize {
		return nil, fmt.Errorf("audit state %s: %d bytes is over the limit", path, fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit state: %w", err)
	}
	var f auditFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("audit state %s: not an audit state file: %w", path, err)
	}
	if f.Version != auditFileVersion {
		return nil, fmt.Errorf("audit state %s: version %d, want %d", path, f.Version, auditFileVersion)
	}
	if _, err := rangeFactory.NewRange(0, f.Meta.Size, f.Range); err != nil {
		return nil, fmt.Errorf("audit state %s: position %d and its compact range disagree: %w", path, f.Meta.Size, err)
	}
	if f.Objects == nil {
		f.Objects = map[string][]byte{}
	}
	s.f = f
	return s, nil
}

// LastSeen returns the store of the last checkpoint seen, or nil for a state
// kept in memory.
func (s *AuditState) LastSeen() *LastSeen { return s.lastSeen }

// Position returns the index of the next entry to audit.
func (s *AuditState) Position() uint64 { return s.f.Meta.Size }

// begin checks that the state belongs to this log and configuration, or
// starts it, and returns the compact range to continue from.
func (s *AuditState) begin(cfg *rules.Config) (*compact.Range, error) {
	fp := configFingerprint(cfg)
	if s.f.Origin == "" && s.f.Meta.Size == 0 {
		s.f.Origin, s.f.Config = cfg.Log, fp
	}
	if s.f.Origin != cfg.Log {
		return nil, fmt.Errorf("the audit state in %s belongs to log %q, not %q; use another --state folder", s.dir, s.f.Origin, cfg.Log)
	}
	if s.f.Config != fp {
		return nil, fmt.Errorf("the audit state in %s was replayed with other rules (root keys, kind or recovery wait); use another --state folder", s.dir)
	}
	return rangeFactory.NewRange(0, s.f.Meta.Size, s.f.Range)
}

// configFingerprint identifies the rules a state was replayed with.
func configFingerprint(cfg *rules.Config) string {
	c := *cfg
	c.Roots = slices.Clone(c.Roots)
	slices.Sort(c.Roots)
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Object implements rules.State over the replayed objects.
func (s *AuditState) Object(id string) (*rules.Object, error) {
	b, ok := s.f.Objects[id]
	if !ok {
		return nil, nil
	}
	return rules.DecodeObject(b)
}

// replay applies the entry at the state's next position exactly as the
// server's state index does on replay (personality/state CatchUp): a refusal
// is recorded and skipped; a state that cannot be read or encoded stops it.
func (s *AuditState) replay(cfg *rules.Config, raw []byte, index uint64) (*rules.Error, error) {
	ch, rerr := rules.ApplyRaw(cfg, s, s.f.Meta, raw, index)
	if rerr != nil {
		if rerr.Code == rules.CodeStateUnavailable {
			return nil, fmt.Errorf("replay entry %d: %s", index, rerr.Message)
		}
		s.f.Rejected = append(s.f.Rejected, Violation{Index: index, Code: rerr.Code, Message: rerr.Message})
		s.f.Meta = rules.Skip(s.f.Meta, index)
		return rerr, nil
	}
	for _, o := range ch.Objects {
		b, err := rules.EncodeObject(o)
		if err != nil {
			return nil, fmt.Errorf("replay entry %d: %w", index, err)
		}
		s.f.Objects[o.ID] = b
	}
	s.f.Meta = ch.Meta
	return nil, nil
}

// save records the state with the compact range of the leaves replayed.
func (s *AuditState) save(rng *compact.Range) error {
	if rng.End() != s.f.Meta.Size {
		return fmt.Errorf("audit state: %d leaves verified but %d entries replayed", rng.End(), s.f.Meta.Size)
	}
	s.f.Range = rng.Hashes()
	if s.dir == "" {
		return nil
	}
	b, err := json.Marshal(s.f)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.dir, "audit.json"), b)
}

// writeAtomic replaces path with b: a synced temporary file renamed over it,
// then the folder synced.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".audit-*")
	if err != nil {
		return fmt.Errorf("audit state: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("audit state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

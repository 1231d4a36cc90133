package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tabularium/tabularium/log"
)

// ErrRollback is wrapped by a *ForkError when a log presents a checkpoint
// smaller than the one last seen: the store never moves backwards.
var ErrRollback = errors.New("log rolled back")

// ErrSplitView is wrapped by a *ForkError when a log presents a checkpoint that
// is not consistent with the one last seen: two different histories.
var ErrSplitView = errors.New("split view")

// ForkError is the evidence of a rollback or split view: both signed
// checkpoints and the consistency proof that failed (empty for a smaller or
// equal-sized checkpoint with another root).
type ForkError struct {
	Kind     error  // ErrRollback or ErrSplitView
	Old, New []byte // the signed checkpoint notes
	OldSize  uint64
	NewSize  uint64
	Proof    [][]byte
	Err      error // why the proof failed, for example a *log.ProofError
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("%v: last seen checkpoint of size %d, now shown size %d: %v", e.Kind, e.OldSize, e.NewSize, e.Err)
}

func (e *ForkError) Unwrap() []error { return []error{e.Kind, e.Err} }

// ConsistencyProver returns the RFC 6962 consistency proof between two sizes
// of a log's tree. Implementations fetch it from the log's tiles (see
// TileProver); the proof is untrusted and LastSeen checks it.
type ConsistencyProver interface {
	ConsistencyProof(ctx context.Context, oldSize, newSize uint64) ([][]byte, error)
}

// LastSeen is a persisted record of the last checkpoint verified for each log:
// a small JSON file, rewritten atomically (temporary file, fsync, rename). It is
// safe for concurrent use within a process; two processes must not share a file.
type LastSeen struct {
	path string
	mu   sync.Mutex
}

// lastSeenFile is the file's content: origin → signed checkpoint note.
type lastSeenFile struct {
	Logs map[string]string `json:"logs"`
}

// maxLastSeenSize bounds the state file read back.
const maxLastSeenSize = 16 << 20

// OpenLastSeen returns the store in the file at path, which need not exist yet.
func OpenLastSeen(path string) (*LastSeen, error) {
	s := &LastSeen{path: path}
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *LastSeen) load() (lastSeenFile, error) {
	f := lastSeenFile{Logs: map[string]string{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("last-seen checkpoints: %w", err)
	}
	if len(b) > maxLastSeenSize {
		return f, fmt.Errorf("last-seen checkpoints %s: %d bytes is over the limit", s.path, len(b))
	}
	if err := json.Unmarshal(b, &f); err != nil || f.Logs == nil {
		return f, fmt.Errorf("last-seen checkpoints %s: not a state file: %v", s.path, err)
	}
	return f, nil
}

// Get returns the last checkpoint note seen for origin, if any.
func (s *LastSeen) Get(origin string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return nil, false, err
	}
	n, ok := f.Logs[origin]
	return []byte(n), ok, nil
}

// Update verifies a checkpoint of origin under the policy (log signature and a
// quorum of cosignatures no older than maxAge) and, if one was seen before,
// its consistency with it, using a proof from prover; then it records the new
// checkpoint. The first checkpoint of a log is trusted on first use. A
// rollback or a split view is a *ForkError and leaves the store unchanged; so
// is any other failure. A checkpoint equal in size and root to the last seen
// needs no proof.
func (s *LastSeen) Update(ctx context.Context, p *log.Policy, origin string, msg []byte, prover ConsistencyProver, now time.Time, maxAge time.Duration) (log.Checkpoint, error) {
	cp, _, err := p.VerifyCheckpoint(msg, origin, now, maxAge)
	if err != nil {
		return log.Checkpoint{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.load()
	if err != nil {
		return log.Checkpoint{}, err
	}
	if prev, ok := f.Logs[origin]; ok {
		// The stored note was verified when it was stored; only its body is used.
		// Its cosignatures may since have aged, so it is not re-checked for freshness.
		old, _, err := p.VerifyCheckpoint([]byte(prev), origin, now, 0)
		if err != nil {
			return log.Checkpoint{}, fmt.Errorf("last-seen checkpoint of %s no longer verifies under the policy: %w", origin, err)
		}
		if err := consistent(ctx, old, cp, []byte(prev), msg, prover); err != nil {
			return log.Checkpoint{}, err
		}
		if old.Size == cp.Size {
			return cp, nil // the same tree; keep the stored note
		}
	}
	f.Logs[origin] = string(msg)
	if err := s.save(f); err != nil {
		return log.Checkpoint{}, err
	}
	return cp, nil
}

// consistent checks that the tree of cp extends the tree of old.
func consistent(ctx context.Context, old, cp log.Checkpoint, oldMsg, msg []byte, prover ConsistencyProver) error {
	fork := &ForkError{Kind: ErrSplitView, Old: oldMsg, New: msg, OldSize: old.Size, NewSize: cp.Size}
	switch {
	case cp.Size < old.Size:
		fork.Kind = ErrRollback
		fork.Err = fmt.Errorf("size %d is smaller than the %d already seen", cp.Size, old.Size)
		return fork
	case cp.Size == old.Size:
		if cp.Hash != old.Hash {
			fork.Err = log.VerifyConsistency(old.Size, cp.Size, nil, old.Hash, cp.Hash)
			if fork.Err == nil {
				fork.Err = errors.New("same size, different root")
			}
			return fork
		}
		return nil
	}
	proof, err := prover.ConsistencyProof(ctx, old.Size, cp.Size)
	if err != nil {
		return fmt.Errorf("consistency proof from %d to %d: %w", old.Size, cp.Size, err)
	}
	if err := log.VerifyConsistency(old.Size, cp.Size, proof, old.Hash, cp.Hash); err != nil {
		fork.Proof, fork.Err = proof, err
		return fork
	}
	return nil
}

// save writes f atomically: a temporary file in the same directory, synced,
// then renamed over the old file, and the directory synced.
func (s *LastSeen) save(f lastSeenFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, ".last-seen-*")
	if err != nil {
		return fmt.Errorf("last-seen checkpoints: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("last-seen checkpoints: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("last-seen checkpoints: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("last-seen checkpoints: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("last-seen checkpoints: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

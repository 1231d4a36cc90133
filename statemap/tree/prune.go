package tree

import (
	"context"
	"fmt"
)

// Prune removes what only versions older than keepFrom need: their version
// rows, and every stored node that a newer node of the same position replaces
// at or before keepFrom. Reads at keepFrom and later are unaffected; reads
// before it get ErrUnknownVersion. keepFrom may be at most the latest version.
// It is one transaction, and scans the tree's tables: run it now and then, not
// after every update. Reads of this Tree wait for it; a reader in another
// process must not be reading a version being pruned (its proof could come
// out wrong, and would then fail to verify): prune only versions that no
// reader serves any more.
func (t *Tree) Prune(ctx context.Context, keepFrom uint64) error {
	t.write.Lock()
	defer t.write.Unlock()
	t.pruning.Lock()
	defer t.pruning.Unlock()
	latest, err := t.Latest(ctx)
	if err != nil {
		return err
	}
	if keepFrom > latest {
		return fmt.Errorf("%w: cannot prune below version %d, the latest is %d", ErrUnknownVersion, keepFrom, latest)
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state map: begin prune: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{t.q.pruneVersions, t.q.pruneNodes, t.q.pruneTop} {
		args := []any{keepFrom, keepFrom}
		if q == t.q.pruneVersions {
			args = args[:1]
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("state map: prune below version %d: %w", keepFrom, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state map: commit prune below version %d: %w", keepFrom, err)
	}
	t.forget(keepFrom)
	return nil
}

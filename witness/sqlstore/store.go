package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/tabularium/tabularium/witness"
)

// DefaultTable is the table used when none is given.
const DefaultTable = "witness_checkpoints"

// maxAttempts bounds how often Update retries after losing a race.
const maxAttempts = 1000

// ErrContention is returned by Update when it lost the compare-and-swap race
// too many times in a row. The caller may retry later.
var ErrContention = errors.New("sqlstore: too much contention on the checkpoint")

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// dialect holds the statements that differ between databases.
type dialect struct {
	create string // CREATE TABLE IF NOT EXISTS, with %s for the table
	insert string // insert that affects 0 rows if the origin exists, with %s
}

// Store is a witness.Store over database/sql. It is safe for concurrent use,
// also by several processes sharing the database.
type Store struct {
	db             *sql.DB
	load, ins, upd string
}

var _ witness.Store = (*Store)(nil)

func open(ctx context.Context, db *sql.DB, d dialect, table string) (*Store, error) {
	if table == "" {
		table = DefaultTable
	}
	if !tableName.MatchString(table) {
		db.Close()
		return nil, fmt.Errorf("sqlstore: bad table name %q", table)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(d.create, table)); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: creating table %s: %w", table, err)
	}
	return &Store{
		db:   db,
		load: fmt.Sprintf("SELECT note, version FROM %s WHERE origin_hash = ?", table),
		ins:  fmt.Sprintf(d.insert, table),
		upd:  fmt.Sprintf("UPDATE %s SET note = ?, version = version + 1 WHERE origin_hash = ? AND version = ?", table),
	}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Load implements witness.Store.
func (s *Store) Load(ctx context.Context, origin string) ([]byte, error) {
	note, _, err := s.read(ctx, origin)
	return note, err
}

// read returns the note and its version; version 0 means no row.
func (s *Store) read(ctx context.Context, origin string) ([]byte, int64, error) {
	var note []byte
	var version int64
	err := s.db.QueryRowContext(ctx, s.load, witness.OriginHash(origin)).Scan(&note, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: loading %q: %w", origin, err)
	}
	return note, version, nil
}

// Update implements witness.Store: a compare-and-swap on the row's version. It
// returns once the database has committed the new note.
func (s *Store) Update(ctx context.Context, origin string, update func([]byte) ([]byte, error)) error {
	for range maxAttempts {
		current, version, err := s.read(ctx, origin)
		if err != nil {
			return err
		}
		next, err := update(current)
		if err != nil {
			return err
		}
		var res sql.Result
		if version == 0 {
			res, err = s.db.ExecContext(ctx, s.ins, witness.OriginHash(origin), origin, next)
		} else {
			res, err = s.db.ExecContext(ctx, s.upd, next, witness.OriginHash(origin), version)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: storing %q: %w", origin, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: storing %q: %w", origin, err)
		} else if n == 1 {
			return nil
		}
		// Another writer got there first: read again.
	}
	return fmt.Errorf("%w %q", ErrContention, origin)
}

package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/fxamacker/cbor/v2"
	"github.com/tabularium/tabularium/personality/rules"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Store is a state index in SQL: SQLite (Open) or a MySQL-compatible database
// (OpenMySQL), behind the same API. It implements rules.State. Reads are safe
// for concurrent use; writes (Commit, Reject, CatchUp) must be serialised by the
// caller, who owns the order of the log — on a shared database by holding Lock.
// CommitAllAfter and the replay's writes check, in their transaction, that the
// index is still where the writer read it, so that a writer that lost the lock
// can never apply entries twice or out of order.
type Store struct {
	db *sql.DB
	d  dialect
	// Statements prepared once per Store, not on every call: parsing the SQL
	// text was a tenth of the server's CPU under load (BENCHMARKS.md).
	// database/sql prepares each on a connection the first time it is used
	// there and keeps it for the connection's life.
	object, meta, metaLocked, rejectedAt *sql.Stmt
	putObject, putMeta, putRefus         *sql.Stmt
	// lock serialises the writers sharing the index; see Lock.
	lock locker
}

// ErrStale is returned by CommitAllAfter, Reject and CatchUp when the index is
// no longer at the position the writer read: another writer moved it. The
// writer must re-read the index (a resync) before writing again.
var ErrStale = errors.New("state index moved under the writer")

// maxIdleConns keeps enough pooled connections, each with its prepared
// statements, for the concurrent readers of a loaded server (database/sql
// keeps 2 by default, and closes the rest after each burst).
const maxIdleConns = 16

// Open opens (creating if needed) the index in the SQLite file at path, for the
// log with the given origin. An index made for another log is refused.
func Open(path, origin string) (*Store, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state index %s: %w", path, err)
	}
	s, err := open(context.Background(), db, sqliteDialect, origin, processLock(path))
	if err != nil {
		return nil, fmt.Errorf("state index %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, db *sql.DB, d dialect, origin string, lk locker) (*Store, error) {
	for _, q := range d.schema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("create schema: %w", err)
		}
	}
	db.SetMaxIdleConns(maxIdleConns)
	s := &Store{db: db, d: d, lock: lk}
	if err := s.prepare(); err != nil {
		s.Close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	if err := s.checkOrigin(origin); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) prepare() error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.object, s.d.q(`SELECT state FROM {objects} WHERE id = ?`)},
		{&s.meta, s.d.q(`SELECT v FROM {meta} WHERE k = 'meta'`)},
		{&s.metaLocked, s.d.q(`SELECT v FROM {meta} WHERE k = 'meta'`) + s.d.forUpdate},
		{&s.rejectedAt, s.d.q(`SELECT code, message FROM {rejected} WHERE idx = ?`)},
		{&s.putObject, s.d.q(s.d.putObject)},
		{&s.putMeta, s.d.q(s.d.putMeta)},
		{&s.putRefus, s.d.q(s.d.putRefus)},
	} {
		st, err := s.db.Prepare(p.sql)
		if err != nil {
			return err
		}
		*p.stmt = st
	}
	return nil
}

// checkOrigin records origin in a new index, and refuses an index of another
// log. Writers opening one shared index at once insert the same row once.
func (s *Store) checkOrigin(origin string) error {
	if _, err := s.db.Exec(s.d.q(s.d.insertOrigin), origin); err != nil {
		return fmt.Errorf("record state index origin: %w", err)
	}
	var got string
	if err := s.db.QueryRow(s.d.q(`SELECT v FROM {meta} WHERE k = 'origin'`)).Scan(&got); err != nil {
		return fmt.Errorf("read state index origin: %w", err)
	}
	if got != origin {
		return fmt.Errorf("state index belongs to log %q, not %q; point it at its own file or database", got, origin)
	}
	return nil
}

// Close closes the prepared statements and the database.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.object, s.meta, s.metaLocked, s.rejectedAt, s.putObject, s.putMeta, s.putRefus} {
		if st != nil {
			st.Close()
		}
	}
	return s.db.Close()
}

// Object implements rules.State.
func (s *Store) Object(id string) (*rules.Object, error) {
	var b []byte
	err := s.object.QueryRow(id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", id, err)
	}
	return rules.DecodeObject(b)
}

// Meta returns the next position and the log time.
func (s *Store) Meta() (rules.Meta, error) { return scanMeta(s.meta.QueryRow()) }

func scanMeta(row *sql.Row) (rules.Meta, error) {
	var m rules.Meta
	var b []byte
	err := row.Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return m, nil
	}
	if err == nil {
		err = cbor.Unmarshal(b, &m)
	}
	if err != nil {
		return m, fmt.Errorf("read state meta: %w", err)
	}
	return m, nil
}

// Commit stores the changes of one accepted entry atomically.
func (s *Store) Commit(ch *rules.Changes) error { return s.CommitAll([]*rules.Changes{ch}) }

// CommitAll stores the changes of consecutive accepted entries, in log order, in
// one transaction: either all of them are applied or none. The index's Meta
// becomes that of the last. It is how a registry commits a group of entries the
// log sequenced together.
func (s *Store) CommitAll(chs []*rules.Changes) error { return s.commitAll(nil, chs) }

// CommitAllAfter is CommitAll that first checks, in the same transaction, that
// the index's Meta is still prev; if not it returns ErrStale and writes nothing.
func (s *Store) CommitAllAfter(prev rules.Meta, chs []*rules.Changes) error {
	return s.commitAll(&prev, chs)
}

func (s *Store) commitAll(prev *rules.Meta, chs []*rules.Changes) error {
	if len(chs) == 0 {
		return nil
	}
	// An object changed by several entries is written once, in its last state.
	last := map[string]*rules.Object{}
	var ids []string
	for _, ch := range chs {
		for _, o := range ch.Objects {
			if _, ok := last[o.ID]; !ok {
				ids = append(ids, o.ID)
			}
			last[o.ID] = o
		}
	}
	return s.tx(prev, chs[len(chs)-1].Meta, func(tx *sql.Tx) error {
		stmt := tx.Stmt(s.putObject)
		for _, id := range ids {
			b, err := rules.EncodeObject(last[id])
			if err != nil {
				return err
			}
			if _, err := stmt.Exec(id, b); err != nil {
				return fmt.Errorf("write object %s: %w", id, err)
			}
		}
		return nil
	})
}

// Reject records that the log's entry at index was refused on replay, and moves
// the next position past it. meta is the index's Meta before the entry: if the
// index is elsewhere, Reject returns ErrStale and writes nothing.
func (s *Store) Reject(index uint64, meta rules.Meta, r *rules.Error) error {
	return s.tx(&meta, rules.Skip(meta, index), func(tx *sql.Tx) error {
		_, err := tx.Stmt(s.putRefus).Exec(int64(index), r.Code, r.Message)
		return err
	})
}

// tx runs fn and then sets the Meta to m, in one transaction. With prev set,
// it first reads the Meta with a locking read and refuses to go on unless it
// equals *prev.
func (s *Store) tx(prev *rules.Meta, m rules.Meta, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("begin state transaction: %w", err)
	}
	defer tx.Rollback()
	if prev != nil {
		cur, err := scanMeta(tx.Stmt(s.metaLocked).QueryRow())
		if err != nil {
			return err
		}
		if cur != *prev {
			return fmt.Errorf("%w: it is at position %d, the writer expected %d", ErrStale, cur.Size, prev.Size)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	b, err := cbor.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := tx.Stmt(s.putMeta).Exec(b); err != nil {
		return fmt.Errorf("write state meta: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit state transaction: %w", err)
	}
	return nil
}

// RejectedAt returns the refusal recorded on replay for the entry at index, or
// nil if none is.
func (s *Store) RejectedAt(index uint64) (*rules.Error, error) {
	e := &rules.Error{}
	err := s.rejectedAt.QueryRow(int64(index)).Scan(&e.Code, &e.Message)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read refusal of entry %d: %w", index, err)
	}
	return e, nil
}

// Rejected returns the refusals recorded on replay, by log index.
func (s *Store) Rejected() (map[uint64]*rules.Error, error) {
	rows, err := s.db.Query(s.d.q(`SELECT idx, code, message FROM {rejected}`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint64]*rules.Error{}
	for rows.Next() {
		var i int64
		e := &rules.Error{}
		if err := rows.Scan(&i, &e.Code, &e.Message); err != nil {
			return nil, err
		}
		out[uint64(i)] = e
	}
	return out, rows.Err()
}

// Encoded returns the canonical encoding of every object, by ID: what a
// verifiable map of the state commits to.
func (s *Store) Encoded() (map[string][]byte, error) {
	rows, err := s.db.Query(s.d.q(`SELECT id, state FROM {objects}`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var id string
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, rows.Err()
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var sqliteDialect = dialect{
	create: `CREATE TABLE IF NOT EXISTS %s (
		origin_hash TEXT NOT NULL PRIMARY KEY,
		origin TEXT NOT NULL,
		version INTEGER NOT NULL,
		note BLOB NOT NULL)`,
	insert: `INSERT INTO %s (origin_hash, origin, version, note) VALUES (?, ?, 1, ?)
		ON CONFLICT (origin_hash) DO NOTHING`,
}

// OpenSQLite opens (creating if needed) the SQLite database at path, in WAL
// mode with synchronous=FULL so that a committed checkpoint survives a power
// loss.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlstore: bad SQLite path %q", path)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer per process; other processes wait on busy_timeout
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: opening %s: %w", path, err)
	}
	return open(ctx, db, sqliteDialect, "")
}

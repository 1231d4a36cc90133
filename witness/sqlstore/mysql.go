package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

var mysqlDialect = dialect{
	create: `CREATE TABLE IF NOT EXISTS %s (
		origin_hash CHAR(64) NOT NULL PRIMARY KEY,
		origin TEXT NOT NULL,
		version BIGINT NOT NULL,
		note MEDIUMBLOB NOT NULL)`,
	// Affects 0 rows when the origin exists (the update changes nothing).
	insert: `INSERT INTO %s (origin_hash, origin, version, note) VALUES (?, ?, 1, ?)
		ON DUPLICATE KEY UPDATE origin_hash = origin_hash`,
}

// OpenMySQL opens a MySQL-compatible database with a go-sql-driver/mysql DSN
// (user:password@tcp(host:3306)/db) and creates table if needed; "" means
// DefaultTable. Durability is the server's: keep InnoDB's default
// innodb_flush_log_at_trx_commit=1.
func OpenMySQL(ctx context.Context, dsn, table string) (*Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: bad MySQL DSN: %w", err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: opening MySQL: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connecting to MySQL at %s: %w", cfg.Addr, err)
	}
	return open(ctx, db, mysqlDialect, table)
}

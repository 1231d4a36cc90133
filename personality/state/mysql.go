package state

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/tabularium/tabularium/personality/rules"
)

// OpenMySQL opens (creating its tables if needed) the index in a
// MySQL-compatible database (MySQL, MariaDB, Aurora) with a go-sql-driver/mysql
// DSN (user:password@tcp(host:3306)/db), for the log with the given origin. An
// index made for another log is refused. Several front ends of one log share
// the index; Lock serialises their writes with a database lock.
//
// Durability is the server's: keep InnoDB's innodb_flush_log_at_trx_commit=1.
func OpenMySQL(ctx context.Context, dsn, origin string) (*Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("state index: bad MySQL DSN: %w", err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("state index: open MySQL: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state index: connect to MySQL at %s: %w", cfg.Addr, err)
	}
	s, err := open(ctx, db, mysqlDialect, origin, &dbLock{db: db, name: lockName(origin)})
	if err != nil {
		return nil, fmt.Errorf("state index in MySQL database %s: %w", cfg.DBName, err)
	}
	// The Meta row exists from the start, so that the first writers' locking
	// reads lock a row rather than a gap.
	zero, err := cbor.Marshal(rules.Meta{})
	if err == nil {
		_, err = db.ExecContext(ctx, `INSERT IGNORE INTO tabularium_state_meta (k, v) VALUES ('meta', ?)`, zero)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("state index: initial meta: %w", err)
	}
	return s, nil
}

// lockName is the GET_LOCK name of a log: names are limited to 64 characters,
// origins are not.
func lockName(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return "tabularium:" + hex.EncodeToString(h[:20])
}

// dbLock is a MySQL named lock (GET_LOCK), held by one connection. The server
// releases it if the connection drops, so a front end that dies never leaves
// the log locked.
type dbLock struct {
	db   *sql.DB
	name string
}

// lockPoll is how long one GET_LOCK call waits before the context is checked.
const lockPoll = 2 * time.Second

func (l *dbLock) lock(ctx context.Context) (func(), error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock the state index: %w", err)
	}
	for {
		var got sql.NullInt64
		err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, l.name, int(lockPoll/time.Second)).Scan(&got)
		if err == nil && got.Valid && got.Int64 == 1 {
			break
		}
		if err == nil && !got.Valid {
			err = errors.New("GET_LOCK returned NULL")
		}
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			conn.Raw(func(any) error { return driverBad }) // never reuse it
			conn.Close()
			return nil, fmt.Errorf("lock the state index: %w", err)
		}
	}
	return func() {
		var released sql.NullInt64
		err := conn.QueryRowContext(context.Background(), `SELECT RELEASE_LOCK(?)`, l.name).Scan(&released)
		if err != nil || released.Int64 != 1 {
			// The lock may still be held by this connection: close it, and the
			// server releases the lock.
			conn.Raw(func(any) error { return driverBad })
		}
		conn.Close()
	}, nil
}

package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/tabularium/tabularium/witness"
	"github.com/tabularium/tabularium/witness/sqlstore"
	"github.com/tabularium/tabularium/witness/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() witness.Store {
		path := filepath.Join(t.TempDir(), "witness.db")
		return func() witness.Store {
			s, err := sqlstore.OpenSQLite(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestSQLiteIsDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "witness.db")
	s, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// mysqlDSN returns the test database DSN, skipping the test if the server is
// unreachable, unless CI=true, where it must be there.
func mysqlDSN(t *testing.T) string {
	dsn := os.Getenv("TABULARIUM_MYSQL_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/test"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", dsn)
	if err == nil {
		err = db.PingContext(ctx)
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MySQL unreachable in CI: %v", err)
		}
		t.Skipf("MySQL unreachable (set TABULARIUM_MYSQL_DSN): %v", err)
	}
	return dsn
}

var tableSeq atomic.Int64

func TestMySQL(t *testing.T) {
	dsn := mysqlDSN(t)
	storetest.Run(t, func(t *testing.T) func() witness.Store {
		table := fmt.Sprintf("witness_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), tableSeq.Add(1))
		t.Cleanup(func() {
			if db, err := sql.Open("mysql", dsn); err == nil {
				db.Exec("DROP TABLE IF EXISTS " + table)
				db.Close()
			}
		})
		return func() witness.Store {
			s, err := sqlstore.OpenMySQL(t.Context(), dsn, table)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestBadTableName(t *testing.T) {
	dsn := mysqlDSN(t)
	if _, err := sqlstore.OpenMySQL(t.Context(), dsn, "x; DROP TABLE y"); err == nil {
		t.Fatal("accepted a table name that is not an identifier")
	}
}

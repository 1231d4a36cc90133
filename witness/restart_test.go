package witness_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/witness/sqlstore"
)

// TestRestartKeepsState stops a witness on SQLite and starts a new one on the
// same file and key: it remembers what it cosigned and still refuses rollbacks.
func TestRestartKeepsState(t *testing.T) {
	l := newTestLog(t, "example.com/log")
	l.grow(12)
	skey, _, err := log.GenerateKey("witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "witness.db")

	s1, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	w1 := startWitness(t, skey, s1, l)
	cosign(t, w1, l, 0, 10)
	s1.Close()

	s2, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	w2 := startWitness(t, skey, s2, l)
	if code, _, resp := post(t, w2.url, body(0, nil, l.checkpoint(5))); code != http.StatusConflict || string(resp) != "10\n" {
		t.Fatalf("rollback after restart: %d %q, want 409 \"10\\n\"", code, resp)
	}
	cosign(t, w2, l, 10, 12)
}

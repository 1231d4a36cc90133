package tree

import (
	"fmt"
	"regexp"
	"strings"
)

// Dialect is the SQL database a tree is stored in.
type Dialect int

const (
	// SQLite is modernc.org/sqlite (or any SQLite 3.8.2 or later). Open the
	// database in WAL mode, so that proofs are read while an update is written.
	SQLite Dialect = iota + 1
	// MySQL is a MySQL-compatible database: MySQL, MariaDB, Aurora.
	MySQL
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "SQLite"
	case MySQL:
		return "MySQL"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// queries are the statements of one tree: its tables' names are the prefix
// followed by nodes, top and versions.
type queries struct {
	schema []string
	// bucket reads a bucket's stored nodes at a version, oldest first per id.
	bucket string
	// top reads the nodes at topDepth at a version, oldest first per index.
	top                                  string
	latest, version, oldest              string
	insertNode, insertTop, insertVersion string
	pruneNodes, pruneTop, pruneVersions  string
}

func newQueries(d Dialect, prefix string) (queries, error) {
	if !prefixPattern.MatchString(prefix) {
		return queries{}, fmt.Errorf("table prefix %q must be a lowercase letter then up to 40 lowercase letters, digits or _", prefix)
	}
	r := strings.NewReplacer("{nodes}", prefix+"nodes", "{top}", prefix+"top", "{versions}", prefix+"versions")
	var q queries
	switch d {
	case SQLite:
		q.schema = []string{
			`CREATE TABLE IF NOT EXISTS {nodes} (id BLOB NOT NULL, version INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (id, version)) WITHOUT ROWID`,
			`CREATE TABLE IF NOT EXISTS {top} (idx INTEGER NOT NULL, version INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (idx, version)) WITHOUT ROWID`,
			`CREATE TABLE IF NOT EXISTS {versions} (version INTEGER PRIMARY KEY, root BLOB NOT NULL, objects INTEGER NOT NULL)`,
		}
		// A row is garbage once a newer row of its id is at or below the
		// oldest version kept.
		q.pruneNodes = `DELETE FROM {nodes} WHERE version < ? AND EXISTS (SELECT 1 FROM {nodes} AS n WHERE n.id = {nodes}.id AND n.version > {nodes}.version AND n.version <= ?)`
		q.pruneTop = `DELETE FROM {top} WHERE version < ? AND EXISTS (SELECT 1 FROM {top} AS n WHERE n.idx = {top}.idx AND n.version > {top}.version AND n.version <= ?)`
		q.insertVersion = `INSERT INTO {versions} (version, root, objects) VALUES (?, ?, ?)`
	case MySQL:
		q.schema = []string{
			`CREATE TABLE IF NOT EXISTS {nodes} (id VARBINARY(33) NOT NULL, version BIGINT UNSIGNED NOT NULL, hash BINARY(32) NOT NULL, PRIMARY KEY (id, version)) ENGINE=InnoDB`,
			`CREATE TABLE IF NOT EXISTS {top} (idx INT UNSIGNED NOT NULL, version BIGINT UNSIGNED NOT NULL, hash BINARY(32) NOT NULL, PRIMARY KEY (idx, version)) ENGINE=InnoDB`,
			`CREATE TABLE IF NOT EXISTS {versions} (version BIGINT UNSIGNED NOT NULL PRIMARY KEY, root BINARY(32) NOT NULL, objects BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB`,
		}
		// MySQL refuses a subquery on the table a DELETE deletes from; a join
		// says the same.
		q.pruneNodes = `DELETE a FROM {nodes} a JOIN {nodes} n ON n.id = a.id AND n.version > a.version AND n.version <= ? WHERE a.version < ?`
		q.pruneTop = `DELETE a FROM {top} a JOIN {top} n ON n.idx = a.idx AND n.version > a.version AND n.version <= ? WHERE a.version < ?`
		q.insertVersion = `INSERT INTO {versions} (version, root, objects) VALUES (?, ?, ?)`
	default:
		return queries{}, fmt.Errorf("unknown SQL dialect %v", d)
	}
	q.bucket = `SELECT id, hash FROM {nodes} WHERE id >= ? AND id <= ? AND version <= ? ORDER BY id, version`
	q.top = `SELECT idx, hash FROM {top} WHERE version <= ? ORDER BY idx, version`
	q.latest = `SELECT MAX(version) FROM {versions}`
	q.oldest = `SELECT MIN(version) FROM {versions}`
	q.version = `SELECT root, objects FROM {versions} WHERE version = ?`
	q.insertNode = `INSERT INTO {nodes} (id, version, hash) VALUES `
	q.insertTop = `INSERT INTO {top} (idx, version, hash) VALUES `
	q.pruneVersions = `DELETE FROM {versions} WHERE version < ?`
	for _, s := range []*string{&q.pruneNodes, &q.pruneTop, &q.insertVersion, &q.bucket, &q.top, &q.latest, &q.oldest, &q.version, &q.insertNode, &q.insertTop, &q.pruneVersions} {
		*s = r.Replace(*s)
	}
	for i := range q.schema {
		q.schema[i] = r.Replace(q.schema[i])
	}
	return q, nil
}

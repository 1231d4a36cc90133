package state

import "strings"

// dialect holds what differs between the SQL databases: table names, schema,
// upserts and the locking read.
type dialect struct {
	// tables maps the placeholders {meta}, {objects} and {rejected} to names.
	tables                                     map[string]string
	schema                                     []string
	forUpdate                                  string // appended to a SELECT to lock the rows it reads
	putObject, putMeta, putRefus, insertOrigin string
}

// q replaces the table placeholders in query.
func (d dialect) q(query string) string {
	for k, v := range d.tables {
		query = strings.ReplaceAll(query, "{"+k+"}", v)
	}
	return query
}

// sqliteDialect keeps the table names of the first, SQLite-only, index.
var sqliteDialect = dialect{
	tables: map[string]string{"meta": "meta", "objects": "objects", "rejected": "rejected"},
	schema: []string{
		`CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY, state BLOB NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS rejected (idx INTEGER PRIMARY KEY, code TEXT NOT NULL, message TEXT NOT NULL)`,
	},
	// Transactions begin IMMEDIATE: they hold the database's write lock, so a
	// plain read in one is already a locking read.
	forUpdate:    ``,
	putObject:    `INSERT INTO objects (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state`,
	putMeta:      `INSERT INTO meta (k, v) VALUES ('meta', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v`,
	putRefus:     `INSERT OR REPLACE INTO rejected (idx, code, message) VALUES (?, ?, ?)`,
	insertOrigin: `INSERT OR IGNORE INTO meta (k, v) VALUES ('origin', ?)`,
}

// mysqlDialect prefixes its tables, which share the log's database with
// tessera's own (Seq, SeqCoord, IntCoord, ...). Object IDs are ASCII of at most
// a few hundred bytes (entry.objectPattern); they are compared as bytes.
var mysqlDialect = dialect{
	tables: map[string]string{"meta": "tabularium_state_meta", "objects": "tabularium_state_objects", "rejected": "tabularium_state_rejected"},
	schema: []string{
		`CREATE TABLE IF NOT EXISTS tabularium_state_meta (k VARCHAR(32) NOT NULL PRIMARY KEY, v BLOB NOT NULL) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS tabularium_state_objects (id VARBINARY(1024) NOT NULL PRIMARY KEY, state MEDIUMBLOB NOT NULL) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS tabularium_state_rejected (idx BIGINT UNSIGNED NOT NULL PRIMARY KEY, code VARCHAR(64) NOT NULL, message TEXT NOT NULL) ENGINE=InnoDB`,
	},
	forUpdate: ` FOR UPDATE`,
	// VALUES() in ON DUPLICATE KEY UPDATE is understood by MySQL and MariaDB
	// alike (MySQL 8's row alias syntax is not MariaDB's).
	putObject:    `INSERT INTO {objects} (id, state) VALUES (?, ?) ON DUPLICATE KEY UPDATE state = VALUES(state)`,
	putMeta:      `INSERT INTO {meta} (k, v) VALUES ('meta', ?) ON DUPLICATE KEY UPDATE v = VALUES(v)`,
	putRefus:     `REPLACE INTO {rejected} (idx, code, message) VALUES (?, ?, ?)`,
	insertOrigin: `INSERT IGNORE INTO {meta} (k, v) VALUES ('origin', ?)`,
}

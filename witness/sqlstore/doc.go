// Package sqlstore keeps a witness's latest cosigned checkpoints in SQL: SQLite
// (the pure Go modernc.org/sqlite driver) by default, or a MySQL-compatible
// database (MySQL, MariaDB, Aurora) for witnesses run on several machines.
//
// It implements witness.Store, the compare-and-swap store that
// c2sp.org/tlog-witness requires: "checking the old size against the latest
// checkpoint and persisting the new checkpoint must be performed atomically".
// Each row carries a version number and an update succeeds only if the version
// it read is still current, so several processes may share one database.
package sqlstore

// Package log is Tabularium's shared vocabulary for transparency logs: checkpoints
// (c2sp.org/tlog-checkpoint) parsed strictly at the trust boundary, signed-note keys
// (c2sp.org/signed-note) and witness cosignature keys (c2sp.org/tlog-cosignature),
// RFC 6962 leaf hashing, and inclusion and consistency proof checking.
//
// The package does no I/O. The write path over tessera lives in log/engine and the
// read API (c2sp.org/tlog-tiles) in log/tiles.
package log

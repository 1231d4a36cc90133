// Package witness is Tabularium's transparency-log witness: it implements the
// add-checkpoint endpoint of c2sp.org/tlog-witness, returns cosignatures in the
// cosignature/v1 format of c2sp.org/tlog-cosignature, and can also pull
// checkpoints from a log that serves c2sp.org/tlog-tiles, proving consistency
// itself from the log's tiles.
//
// A witness keeps, for each log it knows, the latest checkpoint it cosigned. It
// cosigns a new checkpoint only if it is signed by the log's key and is
// consistent with that record, and it updates the record with a compare-and-swap
// on a durable [Store] before any cosignature leaves. It always signs its own
// canonical re-encoding of the parsed checkpoint, never the bytes it received.
//
// The HTTP status codes follow c2sp.org/tlog-witness; the sentinel errors of this
// package are mapped to them in one place (see [StatusCode]).
package witness

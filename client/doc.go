// Package client is the citizens' side of Tabularium: certificates that verify
// offline under a trust policy, and a persisted record of the last checkpoint
// seen of each log.
//
// A Certificate is an entry together with its proof of inclusion in a cosigned
// checkpoint, encoded as a standard c2sp.org/tlog-proof (see ParseProof) whose
// extra data carries the entry and, optionally, the openings (salt and
// contents) of some of its document commitments. Verify checks it against a
// c2sp.org/tlog-policy trust policy (log.ParsePolicy) with no network: the
// log's signature on the checkpoint (c2sp.org/tlog-checkpoint), a quorum of
// fresh witness cosignatures (c2sp.org/tlog-cosignature), the RFC 6962
// inclusion proof of the entry's leaf hash, the entry's COSE signatures
// (personality/entry) and each opening against its commitment. Every refusal
// is a *VerifyError naming one reason (ErrInclusion, ErrStaleCosignatures, …).
//
// LastSeen keeps the last verified checkpoint of each log in a small file and
// accepts a newer one only with a consistency proof from it (ConsistencyProver,
// for example TileProver over the log's c2sp.org/tlog-tiles); a rollback or a
// split view is a *ForkError carrying both checkpoints and the failing proof.
//
// Issue builds a certificate from a log's tiles; the log server keeps an
// Issuer per log, which caches what every request reads again, for
// GET /logs/{name}/proof/{index}. Fetcher reads a log over HTTP.
//
// Audit verifies a whole log (the tree recomputed from its entries and tiles,
// consistency with the last audited checkpoint) and replays every entry
// through the registry's rule engine (personality/rules), resumably; Watch
// follows a log and reports entries touching watched objects or keys.
//
// Signers' roles are proven by the role grants a certificate carries, up to a
// root key the verifier trusts; a revocation after a grant is not ruled out
// offline (that needs the state map, not built yet; see README.md).
//
// Dependencies: besides log, the client imports only the pure, I/O-free part of
// the personality — the rule engine (personality/rules), as DESIGN.md allows for
// auditors, and the entry format it is written in (personality/entry) — so that
// verifiers and auditors run the very rules the server runs.
package client

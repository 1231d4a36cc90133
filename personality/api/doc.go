// Package api is the HTTP write and query API of Tabularium's registries:
//
//	POST /logs/{name}/entries        body: a COSE entry (Content-Type: application/cose)
//	GET  /logs/{name}/objects/{id}   the state of one object, as JSON
//
// A submission answers 200 with {"index","leaf_hash","entry_hash"} once the entry's
// index is durably assigned; with ?wait=published it also waits until a published
// checkpoint covers the entry and adds it as "checkpoint". Refusals are JSON
// {"code","message"}: 400 malformed, 403 signature or role, 409 rule refused,
// 413 too large, 503 with Retry-After when the log pushes back. One function,
// status, maps every error to its status code.
package api

// Package client will hold the citizens' and auditors' side of Tabularium:
// fetching and verifying checkpoints (c2sp.org/tlog-checkpoint) under a trust
// policy (c2sp.org/tlog-policy), certificates (c2sp.org/tlog-proof), audit replay
// and watching.
//
// Not built yet: this package is a placeholder for the client issue.
package client

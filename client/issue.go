package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/transparency-dev/tessera/api/layout"
	tclient "github.com/transparency-dev/tessera/client"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// ErrNotPublished is returned by Issue for an index at or beyond the size of
// the log's latest published checkpoint; over HTTP it is 404.
var ErrNotPublished = errors.New("entry not covered by the published checkpoint")

// LogReader is read access to a log's published resources (c2sp.org/tlog-tiles)
// with the contracts of tessera.LogReader, which implements it, as does Fetcher:
// a resource that does not exist is an error wrapping os.ErrNotExist, and
// implementations are safe for concurrent use. What a reader returns is
// untrusted: Issue is meant for the log's own server, and the auditor and the
// watcher check everything against a verified checkpoint.
type LogReader interface {
	// ReadCheckpoint returns the log's latest signed checkpoint.
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	// ReadTile returns a hash tile, with the contract of tessera's
	// client.TileFetcherFunc: p is the partial width, 0 for a full tile.
	ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
	// ReadEntryBundle returns an entry bundle, p being its partial width.
	ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error)
}

// RoleState is read access to a registry's current state: the role objects
// "role/<role>/<key>", whose History lists the entries that granted and
// revoked the role. *registry.Registry implements it.
type RoleState interface {
	Object(id string) (*rules.Object, error)
}

// Issue builds the certificate of the entry at index against the latest
// published checkpoint of the log read by r, without openings. It trusts r:
// it is meant for the log's own server.
//
// With st, the certificate also carries the role grants that prove its
// signers' roles (see VerifyWithRoots): for every role the entry type needs
// (rules.RequiredRoles), for every signer (or the key the need names) that
// held it at index, the latest role.grant of that role to that key before
// index, with its inclusion proof in the same checkpoint; and so on for the
// signers of each grant, up to grants signed by root keys. A signer that held
// a role only through a key it replaced (rotation, recovery) gets no grant.
func Issue(ctx context.Context, r LogReader, index uint64, st RoleState) (*Certificate, error) {
	msg, err := r.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	body, _, _ := bytes.Cut(msg, []byte("\n\n"))
	cp, err := log.ParseCheckpoint(append(bytes.Clone(body), '\n'))
	if err != nil {
		return nil, fmt.Errorf("published checkpoint: %w", err)
	}
	if index >= cp.Size {
		return nil, fmt.Errorf("%w: index %d, published size %d", ErrNotPublished, index, cp.Size)
	}
	pb, err := tclient.NewProofBuilder(ctx, cp.Size, fallbackTiles(r.ReadTile))
	if err != nil {
		return nil, err
	}
	is := &issuer{r: r, cp: cp, pb: pb}
	raw, proof, err := is.prove(ctx, index)
	if err != nil {
		return nil, err
	}
	c := &Certificate{Entry: raw, Index: index, Checkpoint: msg}
	for _, h := range proof {
		c.Hashes = append(c.Hashes, [32]byte(h))
	}
	if st != nil {
		if c.Grants, err = is.grants(ctx, st, raw, index); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// issuer reads entries and inclusion proofs against one checkpoint.
type issuer struct {
	r  LogReader
	cp log.Checkpoint
	pb *tclient.ProofBuilder
}

// prove returns the entry at index and its inclusion proof, checked against
// the checkpoint: a server must not issue certificates that cannot verify.
func (is *issuer) prove(ctx context.Context, index uint64) ([]byte, [][]byte, error) {
	proof, err := is.pb.InclusionProof(ctx, index)
	if err != nil {
		return nil, nil, fmt.Errorf("inclusion proof of %d in %d: %w", index, is.cp.Size, err)
	}
	bundles := fallbackTiles(func(ctx context.Context, _, n uint64, p uint8) ([]byte, error) {
		return is.r.ReadEntryBundle(ctx, n, p)
	})
	readBundle := func(ctx context.Context, n uint64, p uint8) ([]byte, error) { return bundles(ctx, 0, n, p) }
	eb, err := tclient.GetEntryBundle(ctx, readBundle, index/layout.EntryBundleWidth, is.cp.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("entry bundle of %d: %w", index, err)
	}
	j := index % layout.EntryBundleWidth
	if j >= uint64(len(eb.Entries)) {
		return nil, nil, fmt.Errorf("entry bundle of %d has only %d entries", index, len(eb.Entries))
	}
	raw := eb.Entries[j]
	for _, h := range proof {
		if len(h) != 32 {
			return nil, nil, fmt.Errorf("proof hash of %d bytes", len(h))
		}
	}
	if err := log.VerifyInclusion(index, is.cp.Size, log.LeafHash(raw), proof, is.cp.Hash); err != nil {
		return nil, nil, err
	}
	return raw, proof, nil
}

// grants collects the grants that prove the roles of the entry raw at index,
// recursively, in increasing order of index.
func (is *issuer) grants(ctx context.Context, st RoleState, raw []byte, index uint64) ([]Grant, error) {
	type pending struct {
		raw   []byte
		index uint64
	}
	found := map[uint64]Grant{}
	queue := []pending{{raw, index}}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		e, err := entry.Parse(p.raw)
		if err != nil {
			// The log's rules refused it; it proves no role.
			continue
		}
		for _, n := range rules.RequiredRoles(e.Payload) {
			keys := e.Signers
			if n.Key != "" {
				keys = []entry.PublicKey{n.Key}
			}
			for _, k := range keys {
				for _, role := range n.Roles {
					if role == rules.Root {
						continue
					}
					g, ok, err := is.grantBefore(ctx, st, role, k, p.index)
					if err != nil {
						return nil, err
					}
					if !ok {
						continue
					}
					if _, dup := found[g.Index]; dup {
						continue
					}
					if len(found) == MaxGrants {
						return nil, fmt.Errorf("entry %d needs more than %d role grants", index, MaxGrants)
					}
					found[g.Index] = g
					queue = append(queue, pending{g.Entry, g.Index})
				}
			}
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	out := make([]Grant, 0, len(found))
	for _, g := range found {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// grantBefore returns the grant by which key held role just before index:
// the latest entry on the role object before index, if it is a grant.
func (is *issuer) grantBefore(ctx context.Context, st RoleState, role string, key entry.PublicKey, index uint64) (Grant, bool, error) {
	o, err := st.Object("role/" + role + "/" + string(key))
	if err != nil {
		return Grant{}, false, fmt.Errorf("role object %s of %s: %w", role, key, err)
	}
	if o == nil {
		return Grant{}, false, nil
	}
	var at uint64
	found := false
	for _, h := range o.History {
		if h < index && (!found || h > at) {
			at, found = h, true
		}
	}
	if !found {
		return Grant{}, false, nil
	}
	raw, proof, err := is.prove(ctx, at)
	if err != nil {
		return Grant{}, false, err
	}
	e, err := entry.Parse(raw)
	if err != nil {
		return Grant{}, false, fmt.Errorf("entry %d of role object %s: %w", at, o.ID, err)
	}
	f, ok := e.Payload.Fields.(*entry.RoleFields)
	if e.Payload.Type != entry.TypeRoleGrant || !ok || f.Role != role || f.Holder != key {
		// A revocation: the key did not hold the role.
		return Grant{}, false, nil
	}
	return Grant{Index: at, Entry: raw, Hashes: proof}, true, nil
}

// fallbackTiles wraps a tile reader so that a missing partial tile is read as
// the full tile, which a grown tree has in its place.
func fallbackTiles(f func(ctx context.Context, level, index uint64, p uint8) ([]byte, error)) tclient.TileFetcherFunc {
	return func(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
		b, err := f(ctx, level, index, p)
		if p != 0 && errors.Is(err, os.ErrNotExist) {
			return f(ctx, level, index, 0)
		}
		return b, err
	}
}

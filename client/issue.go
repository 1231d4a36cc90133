package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/prover"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// ErrNotPublished is returned by Issue for an index at or beyond the size of
// the log's latest published checkpoint; over HTTP it is 404.
var ErrNotPublished = errors.New("entry not covered by the published checkpoint")

// ErrRefusedEntry is the reason of a *RefusedError: the log holds the entry,
// but the registry's rules refused it when it was replayed (a broken pipeline
// or a writer behind the registry's back appended it), so it has no effect
// and gets no certificate. Over HTTP it is 409, with the recorded refusal.
var ErrRefusedEntry = errors.New("entry in the log, but refused by the registry's rules on replay")

// ErrNotJudged is returned by Issue for a published entry the registry's state
// index has not replayed yet: whether its rules accept it is not known, so no
// certificate is issued yet. Over HTTP it is 503: retry shortly.
var ErrNotJudged = errors.New("entry not judged by the registry yet")

// RefusedError is the answer of Issue for an entry the registry refused on
// replay: its index and the refusal recorded then.
type RefusedError struct {
	Index   uint64
	Refusal *rules.Error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%v: entry %d: %s: %s", ErrRefusedEntry, e.Index, e.Refusal.Code, e.Refusal.Message)
}

func (e *RefusedError) Unwrap() error { return ErrRefusedEntry }

// Verdicts is a registry's record of how its rules judged the log's entries
// on replay; *state.Store implements it. Both methods are safe for concurrent
// use.
type Verdicts interface {
	// Meta returns the state index's position: the entries below Meta().Size
	// have been judged.
	Meta() (rules.Meta, error)
	// RejectedAt returns the refusal recorded for the judged entry at index,
	// or nil if the rules accepted it.
	RejectedAt(index uint64) (*rules.Error, error)
}

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
// it is meant for the log's own server. A server answering many requests
// keeps one Issuer instead, which caches what every certificate reads again.
//
// With st, the certificate also carries the role grants that prove its
// signers' roles (see VerifyWithRoots): for every role the entry type needs
// (rules.RequiredRoles), for every signer (or the key the need names) that
// held it at index, the latest role.grant of that role to that key before
// index, with its inclusion proof in the same checkpoint; and so on for the
// signers of each grant, up to grants signed by root keys. A signer that held
// a role only through a key it replaced (rotation, recovery) gets no grant.
//
// With v, an entry the registry's rules refused on replay gets no
// certificate but a *RefusedError (ErrRefusedEntry) with the recorded
// refusal, and one not judged yet ErrNotJudged: a certificate proves that an
// entry is in the log, and a reader would take it for an entry in force. A
// server of a registry must pass v; nil is for logs without rules.
//
// The entry and every grant are checked against the checkpoint before they
// are returned: a server must not issue certificates that cannot verify.
func Issue(ctx context.Context, r LogReader, index uint64, st RoleState, v Verdicts) (*Certificate, error) {
	is, err := newIssuer(r, st, v, -1, 0)
	if err != nil {
		return nil, err
	}
	return is.Issue(ctx, index)
}

// Issuer issues certificates of one log, as Issue does, for a server: it is
// safe for concurrent use and keeps, across requests, the hashed subtrees of
// the tiles it has read (log/prover: the upper levels of the tree stay
// cached, so a proof hashes at most its entry's level-0 tile), the entry
// bundles it has parsed, and, until the next published checkpoint, the
// signers' role objects and the grants it proved in that checkpoint's tree.
type Issuer struct {
	r  LogReader
	st RoleState
	v  Verdicts
	// judged is a size the state index has been seen at: entries below it
	// are judged, and need no read of Meta.
	judged  atomic.Uint64
	prover  *prover.Prover
	bundles *lru.Cache[bundleKey, [][]byte]
	last    atomic.Pointer[publishedCheckpoint]
}

type bundleKey struct {
	index uint64
	width uint8 // 0 for a full bundle
}

// publishedCheckpoint is the checkpoint the Issuer answers against, with a
// memo of what every request against it reads again: the role objects of the
// signers and the grants proven in its tree. The memo goes with the
// checkpoint: a grant's proof is only valid in its tree.
type publishedCheckpoint struct {
	msg []byte
	cp  log.Checkpoint

	mu     sync.Mutex
	roles  map[string]*rules.Object
	grants map[uint64]*provenGrant
}

// provenGrant is a grant with its inclusion proof in the checkpoint's tree,
// and its decoded entry.
type provenGrant struct {
	g Grant
	e *entry.Entry
}

// memoLimit bounds each memo of a checkpoint: beyond it, lookups are not
// remembered.
const memoLimit = 4096

func (p *publishedCheckpoint) role(id string) (*rules.Object, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := p.roles[id]
	return o, ok
}

func (p *publishedCheckpoint) keepRole(id string, o *rules.Object) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.roles) < memoLimit {
		p.roles[id] = o
	}
}

func (p *publishedCheckpoint) grant(at uint64) *provenGrant {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.grants[at]
}

func (p *publishedCheckpoint) keepGrant(pg *provenGrant) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.grants) < memoLimit {
		p.grants[pg.g.Index] = pg
	}
}

// Cache sizes of NewIssuer.
const (
	issuerCacheTiles   = prover.DefaultCacheTiles
	issuerCacheBundles = 64 // a land bundle is about 200 KB
)

// NewIssuer returns an Issuer for the log read by r; st and v as for Issue.
func NewIssuer(r LogReader, st RoleState, v Verdicts) (*Issuer, error) {
	return newIssuer(r, st, v, issuerCacheTiles, issuerCacheBundles)
}

func newIssuer(r LogReader, st RoleState, v Verdicts, tiles, bundles int) (*Issuer, error) {
	p, err := prover.New(fallbackTiles(r.ReadTile), tiles)
	if err != nil {
		return nil, err
	}
	is := &Issuer{r: r, st: st, v: v, prover: p}
	if bundles > 0 {
		if is.bundles, err = lru.New[bundleKey, [][]byte](bundles); err != nil {
			return nil, err
		}
	}
	return is, nil
}

// Issue builds the certificate of the entry at index against the latest
// published checkpoint.
func (is *Issuer) Issue(ctx context.Context, index uint64) (*Certificate, error) {
	pc, err := is.checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	cp := &pc.cp
	if index >= cp.Size {
		return nil, fmt.Errorf("%w: index %d, published size %d", ErrNotPublished, index, cp.Size)
	}
	if err := is.verdict(index); err != nil {
		return nil, err
	}
	raw, proof, err := is.prove(ctx, cp, index)
	if err != nil {
		return nil, err
	}
	c := &Certificate{Entry: raw, Index: index, Checkpoint: pc.msg}
	for _, h := range proof {
		c.Hashes = append(c.Hashes, [32]byte(h))
	}
	if is.st != nil {
		if c.Grants, err = is.grants(ctx, pc, raw, index); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// verdict returns nil if the registry's rules accepted the entry at index (or
// the Issuer has no Verdicts), a *RefusedError if they refused it on replay,
// and ErrNotJudged if the state index has not reached it yet.
func (is *Issuer) verdict(index uint64) error {
	if is.v == nil {
		return nil
	}
	if index >= is.judged.Load() {
		m, err := is.v.Meta()
		if err != nil {
			return fmt.Errorf("read the state index's position: %w", err)
		}
		if index >= m.Size {
			return fmt.Errorf("%w: index %d, the state index has judged %d entries", ErrNotJudged, index, m.Size)
		}
		for {
			old := is.judged.Load()
			if old >= m.Size || is.judged.CompareAndSwap(old, m.Size) {
				break
			}
		}
	}
	refusal, err := is.v.RejectedAt(index)
	if err != nil {
		return err
	}
	if refusal != nil {
		return &RefusedError{Index: index, Refusal: refusal}
	}
	return nil
}

// checkpoint reads the latest published checkpoint, parsing it only when it
// changed since the last request.
func (is *Issuer) checkpoint(ctx context.Context) (*publishedCheckpoint, error) {
	msg, err := is.r.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	if last := is.last.Load(); last != nil && bytes.Equal(last.msg, msg) {
		return last, nil
	}
	body, _, _ := bytes.Cut(msg, []byte("\n\n"))
	cp, err := log.ParseCheckpoint(append(bytes.Clone(body), '\n'))
	if err != nil {
		return nil, fmt.Errorf("published checkpoint: %w", err)
	}
	p := &publishedCheckpoint{msg: msg, cp: cp, roles: map[string]*rules.Object{}, grants: map[uint64]*provenGrant{}}
	is.last.Store(p)
	return p, nil
}

// prove returns the entry at index and its inclusion proof, checked against
// the checkpoint: a server must not issue certificates that cannot verify.
func (is *Issuer) prove(ctx context.Context, cp *log.Checkpoint, index uint64) ([]byte, [][]byte, error) {
	proof, err := is.prover.InclusionProof(ctx, index, cp.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("inclusion proof of %d in %d: %w", index, cp.Size, err)
	}
	entries, err := is.bundle(ctx, index/layout.EntryBundleWidth, layout.PartialTileSize(0, index/layout.EntryBundleWidth, cp.Size))
	if err != nil {
		return nil, nil, fmt.Errorf("entry bundle of %d: %w", index, err)
	}
	j := index % layout.EntryBundleWidth
	if j >= uint64(len(entries)) {
		return nil, nil, fmt.Errorf("entry bundle of %d has only %d entries", index, len(entries))
	}
	raw := entries[j]
	for _, h := range proof {
		if len(h) != 32 {
			return nil, nil, fmt.Errorf("proof hash of %d bytes", len(h))
		}
	}
	if err := log.VerifyInclusion(index, cp.Size, log.LeafHash(raw), proof, cp.Hash); err != nil {
		return nil, nil, err
	}
	return raw, proof, nil
}

// bundle returns the entries of an entry bundle of partial width p (0 for a
// full one), from the cache or read. A partial bundle is cached under its
// width, so a later checkpoint does not reuse it.
func (is *Issuer) bundle(ctx context.Context, n uint64, p uint8) ([][]byte, error) {
	k := bundleKey{n, p}
	if is.bundles != nil {
		if e, ok := is.bundles.Get(k); ok {
			return e, nil
		}
	}
	b, err := fallbackTiles(func(ctx context.Context, _, n uint64, p uint8) ([]byte, error) {
		return is.r.ReadEntryBundle(ctx, n, p)
	})(ctx, 0, n, p)
	if err != nil {
		return nil, err
	}
	var eb api.EntryBundle
	if err := eb.UnmarshalText(b); err != nil {
		return nil, err
	}
	// A reader may answer a partial request with the full bundle that
	// replaced it; the entries beyond the width are not in this tree.
	if p != 0 && len(eb.Entries) > int(p) {
		eb.Entries = eb.Entries[:p]
	}
	if is.bundles != nil {
		is.bundles.Add(k, eb.Entries)
	}
	return eb.Entries, nil
}

// grants collects the grants that prove the roles of the entry raw at index,
// recursively, in increasing order of index.
func (is *Issuer) grants(ctx context.Context, pc *publishedCheckpoint, raw []byte, index uint64) ([]Grant, error) {
	type pending struct {
		e     *entry.Entry
		index uint64
	}
	e, err := entry.ParseUnverified(raw)
	if err != nil {
		// The log's rules refused it; it proves no role.
		return nil, nil
	}
	found := map[uint64]Grant{}
	queue := []pending{{e, index}}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, n := range rules.RequiredRoles(p.e.Payload) {
			keys := p.e.Signers
			if n.Key != "" {
				keys = []entry.PublicKey{n.Key}
			}
			for _, k := range keys {
				for _, role := range n.Roles {
					if role == rules.Root {
						continue
					}
					pg, err := is.grantBefore(ctx, pc, role, k, p.index)
					if err != nil {
						return nil, err
					}
					if pg == nil {
						continue
					}
					if _, dup := found[pg.g.Index]; dup {
						continue
					}
					if len(found) == MaxGrants {
						return nil, fmt.Errorf("entry %d needs more than %d role grants", index, MaxGrants)
					}
					found[pg.g.Index] = pg.g
					queue = append(queue, pending{pg.e, pg.g.Index})
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
// the latest entry on the role object before index, if it is a grant; nil if
// there is none. Role objects (or their absence) and proven grants are
// remembered until the next checkpoint: a grant the state commits after its
// role object was remembered shows in certificates from the next checkpoint
// on, about a second later; until then they carry no grant for it and say so.
func (is *Issuer) grantBefore(ctx context.Context, pc *publishedCheckpoint, role string, key entry.PublicKey, index uint64) (*provenGrant, error) {
	id := "role/" + role + "/" + string(key)
	o, memo := pc.role(id)
	if !memo {
		var err error
		if o, err = is.st.Object(id); err != nil {
			return nil, fmt.Errorf("role object %s of %s: %w", role, key, err)
		}
		pc.keepRole(id, o)
	}
	at, found := latestBefore(o, index)
	if !found {
		return nil, nil
	}
	if pg := pc.grant(at); pg != nil {
		return pg, nil
	}
	raw, proof, err := is.prove(ctx, &pc.cp, at)
	if err != nil {
		return nil, err
	}
	e, err := entry.ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("entry %d of role object %s: %w", at, id, err)
	}
	f, ok := e.Payload.Fields.(*entry.RoleFields)
	if e.Payload.Type != entry.TypeRoleGrant || !ok || f.Role != role || f.Holder != key {
		// A revocation: the key did not hold the role.
		return nil, nil
	}
	pg := &provenGrant{g: Grant{Index: at, Entry: raw, Hashes: proof}, e: e}
	pc.keepGrant(pg)
	return pg, nil
}

// latestBefore returns the latest entry of o's history before index.
func latestBefore(o *rules.Object, index uint64) (uint64, bool) {
	if o == nil {
		return 0, false
	}
	var at uint64
	found := false
	for _, h := range o.History {
		if h < index && (!found || h > at) {
			at, found = h, true
		}
	}
	return at, found
}

// fallbackTiles wraps a tile reader so that a missing partial tile is read as
// the full tile, which a grown tree has in its place.
func fallbackTiles(f prover.TileReader) prover.TileReader {
	return func(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
		b, err := f(ctx, level, index, p)
		if p != 0 && errors.Is(err, os.ErrNotExist) {
			return f(ctx, level, index, 0)
		}
		return b, err
	}
}

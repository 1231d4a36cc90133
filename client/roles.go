package client

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// RootsDirective starts a comment line of a trust policy that names the root
// authority keys a verifier trusts for one log:
//
//	# tabularium-roots <log origin> <key> [<key> ...]
//
// It is a comment to c2sp.org/tlog-policy, so other verifiers ignore it.
const RootsDirective = "tabularium-roots"

// Roots are the root authority keys a verifier trusts, by log origin: the keys
// that grant the roles rules.Grantor maps to rules.Root.
type Roots map[string][]entry.PublicKey

// ParseRoots reads the "# tabularium-roots" lines of a trust policy. Each must
// name a log of p and valid keys; a log may be named on several lines.
func ParseRoots(text []byte, p *log.Policy) (Roots, error) {
	roots := Roots{}
	for i, line := range strings.Split(string(text), "\n") {
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(f) < 2 || f[0] != "#" || f[1] != RootsDirective {
			continue
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("policy line %d: want # %s <log origin> <key> ...", i+1, RootsDirective)
		}
		if !policyNamesLog(p, f[2]) {
			return nil, fmt.Errorf("policy line %d: %s names log %q, which the policy does not list", i+1, RootsDirective, f[2])
		}
		for _, k := range f[3:] {
			if !entry.PublicKey(k).Valid() {
				return nil, fmt.Errorf("policy line %d: %q is not a public key (ed25519:... or p256:...)", i+1, k)
			}
			roots[f[2]] = append(roots[f[2]], entry.PublicKey(k))
		}
	}
	return roots, nil
}

func policyNamesLog(p *log.Policy, origin string) bool {
	for _, l := range p.Logs {
		if l.Verifier.Name() == origin {
			return true
		}
	}
	return false
}

// RoleGrant is one grant in the chain that proves a role: the role.grant
// entry at Index gave Role to Holder, and was signed by Grantor, which held
// GrantorRole (rules.Root for a root key).
type RoleGrant struct {
	Index       uint64
	Role        string
	Holder      entry.PublicKey
	Grantor     entry.PublicKey
	GrantorRole string
}

// ProvenRole is a role that Key held when the entry was logged, as recorded
// in the log: Chain[0] granted it to Key, each next grant gave the previous
// grantor its role, and the last is signed by a root key. The chain is empty
// when Role is rules.Root itself.
type ProvenRole struct {
	Key   entry.PublicKey
	Role  string
	Chain []RoleGrant
}

func (r ProvenRole) String() string {
	var parts []string
	for _, g := range r.Chain {
		parts = append(parts, fmt.Sprintf("granted at entry %d by %s %s", g.Index, g.GrantorRole, g.Grantor))
	}
	if len(parts) == 0 {
		return r.Role
	}
	return r.Role + " (" + strings.Join(parts, ", ") + ")"
}

// Accounts of the signers' roles in a Summary.
const (
	// RolesNotProven: the certificate carries no grants and the verifier
	// named no root keys for the log.
	RolesNotProven = "roles not proven offline: the certificate carries no role grants and the policy names no root keys for this log; the log's rules checked them on admission; a replay of the log re-checks them"
	// RolesAsRecorded: every role the entry needs is proven up to a root key
	// the verifier trusts.
	RolesAsRecorded  = "as recorded: each grant is in this checkpoint before the entry and chains up to a root key you trust; " + revocationCaveat
	revocationCaveat = "a revocation after a grant is not ruled out offline (that needs the state map), but the log's rules checked it on admission and tab audit re-checks it"
)

// grant is one of a certificate's grants being checked.
type grant struct {
	index  uint64
	e      *entry.Entry
	f      *entry.RoleFields
	used   bool
	fail   error
	chain  []RoleGrant // once proven
	proven bool
	tried  bool
}

// roleProver proves the roles of an entry's signers from a certificate's grants.
type roleProver struct {
	origin string
	roots  map[entry.PublicKey]bool // nil: the verifier trusts no root for the log
	grants []*grant
}

// checkGrants checks each grant on its own: a role.grant entry of this log,
// validly signed, before the certified entry and included in the checkpoint.
func checkGrants(cp log.Checkpoint, c *Certificate) ([]*grant, error) {
	var out []*grant
	for _, g := range c.Grants {
		if g.Index >= c.Index {
			return nil, refuse(ErrGrant, nil, "the grant at entry %d is not before the certified entry %d", g.Index, c.Index)
		}
		e, err := entry.Parse(g.Entry)
		if err != nil {
			return nil, refuse(ErrGrant, err, "entry %d", g.Index)
		}
		if e.Payload.Log != cp.Origin {
			return nil, refuse(ErrGrant, nil, "the grant at entry %d names log %q, the checkpoint is of %q", g.Index, e.Payload.Log, cp.Origin)
		}
		f, ok := e.Payload.Fields.(*entry.RoleFields)
		if e.Payload.Type != entry.TypeRoleGrant || !ok {
			return nil, refuse(ErrGrant, nil, "entry %d is a %s entry, not a %s", g.Index, e.Payload.Type, entry.TypeRoleGrant)
		}
		if err := log.VerifyInclusion(g.Index, cp.Size, log.LeafHash(g.Entry), g.Hashes, cp.Hash); err != nil {
			return nil, refuse(ErrGrant, err, "the grant at entry %d is not proven in the checkpoint", g.Index)
		}
		out = append(out, &grant{index: g.Index, e: e, f: f})
	}
	return out, nil
}

// verifyRoles proves the roles the certified entry e at index needs. It
// returns the proven roles and the account for the Summary.
func verifyRoles(cp log.Checkpoint, c *Certificate, e *entry.Entry, roots Roots) ([]ProvenRole, string, error) {
	gs, err := checkGrants(cp, c)
	if err != nil {
		return nil, "", err
	}
	needs := rules.RequiredRoles(e.Payload)
	rs, trusted := roots[cp.Origin]
	if len(needs) == 0 && len(gs) == 0 {
		return nil, fmt.Sprintf("none needed by a %s entry", e.Payload.Type), nil
	}
	if len(gs) == 0 && !trusted {
		return nil, RolesNotProven, nil
	}
	rp := &roleProver{origin: cp.Origin, grants: gs}
	if trusted {
		rp.roots = map[entry.PublicKey]bool{}
		for _, k := range rs {
			rp.roots[k] = true
		}
	}
	var proven []ProvenRole
	var notes []string
	for _, n := range needs {
		ps, err := rp.need(e, c.Index, n)
		if err != nil && n.Unless == "" {
			return nil, "", err
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s not proven: the rules also accept this %s entry when %s, which is not proven offline", strings.Join(n.Roles, " or "), e.Payload.Type, n.Unless))
		}
		proven = append(proven, ps...)
	}
	for _, g := range gs {
		if g.used {
			continue
		}
		if g.fail != nil {
			return nil, "", g.fail
		}
		return nil, "", refuse(ErrRole, nil, "the grant at entry %d (role %s to %s) proves no role the entry needs", g.index, g.f.Role, g.f.Holder)
	}
	account := RolesAsRecorded
	if !trusted {
		account = fmt.Sprintf("as recorded, but not up to a root you trust: the policy names no root keys for %s (add a line # %s %s <key>); %s", cp.Origin, RootsDirective, cp.Origin, revocationCaveat)
	}
	if len(notes) > 0 {
		account += "; " + strings.Join(notes, "; ")
	}
	sort.SliceStable(proven, func(i, j int) bool { return proven[i].Key < proven[j].Key })
	return proven, account, nil
}

// need proves one need of the entry e at index: every candidate key is tried
// in every role of the need, so that every grant the log would show is used.
func (rp *roleProver) need(e *entry.Entry, index uint64, n rules.Need) ([]ProvenRole, error) {
	candidates := e.Signers
	if n.Key != "" {
		candidates = []entry.PublicKey{n.Key}
	}
	var out []ProvenRole
	var firstErr, deepErr error
	keys := map[entry.PublicKey]bool{}
	seen := map[entry.PublicKey]bool{}
	for _, k := range candidates {
		if seen[k] {
			continue
		}
		seen[k] = true
		for _, r := range n.Roles {
			chain, deep, err := rp.prove(k, r, index)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				if deep && deepErr == nil {
					deepErr = err
				}
				continue
			}
			keys[k] = true
			out = append(out, ProvenRole{Key: k, Role: r, Chain: chain})
		}
	}
	if len(keys) >= n.Count() {
		return out, nil
	}
	if deepErr != nil {
		return out, deepErr
	}
	if n.Count() > 1 {
		return out, refuse(ErrRole, nil, "a %s entry needs %d different signers holding the role %s; the certificate proves it for %d", e.Payload.Type, n.Count(), strings.Join(n.Roles, " or "), len(keys))
	}
	if firstErr != nil && n.Key != "" {
		return out, firstErr
	}
	return out, refuse(ErrRole, nil, "a %s entry needs a signer holding the role %s; the certificate carries no grant of it to any of its signers before entry %d", e.Payload.Type, strings.Join(n.Roles, " or "), index)
}

// prove proves that key held role before index. deep reports whether the
// failure is more than a missing grant (a grant was found, or the key claims
// to be a root), so that it is the precise reason.
func (rp *roleProver) prove(key entry.PublicKey, role string, before uint64) ([]RoleGrant, bool, error) {
	if role == rules.Root {
		if rp.roots == nil || rp.roots[key] {
			return nil, false, nil
		}
		return nil, true, refuse(ErrRole, nil, "%s signed as a root key, but it is not a root key you trust for %s", key, rp.origin)
	}
	var g *grant
	for _, x := range rp.grants {
		if x.index < before && x.f.Role == role && x.f.Holder == key {
			g = x // the latest, as grants are in increasing order
		}
	}
	if g == nil {
		return nil, false, refuse(ErrRole, nil, "the certificate carries no grant of the role %s to %s before entry %d", role, key, before)
	}
	if !g.tried {
		g.tried = true
		g.chain, g.fail = rp.grantChain(g)
		g.proven = g.fail == nil
	}
	if !g.proven {
		return nil, true, g.fail
	}
	g.used = true
	return g.chain, true, nil
}

// grantChain proves that a grant's signer held the role that grants it.
func (rp *roleProver) grantChain(g *grant) ([]RoleGrant, error) {
	needs := rules.RequiredRoles(g.e.Payload)
	if len(needs) != 1 {
		return nil, refuse(ErrRole, nil, "the grant at entry %d is of the role %q, which the rules do not know", g.index, g.f.Role)
	}
	ps, err := rp.need(g.e, g.index, needs[0])
	if err != nil {
		var ve *VerifyError
		if errors.As(err, &ve) && ve.Reason == ErrRole {
			return nil, refuse(ErrRole, nil, "the grant at entry %d of the role %s to %s: %s", g.index, g.f.Role, g.f.Holder, ve.Detail)
		}
		return nil, err
	}
	p := ps[0]
	link := RoleGrant{Index: g.index, Role: g.f.Role, Holder: g.f.Holder, Grantor: p.Key, GrantorRole: p.Role}
	return append([]RoleGrant{link}, p.Chain...), nil
}

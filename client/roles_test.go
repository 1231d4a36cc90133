package client

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// roleLog is a log with a chain of real role grants:
//
//	0 role.grant education-ministry to ministry, by root
//	1 role.grant university to uni, by ministry
//	2 role.grant university to uni2, by ministry
//	3 land.register (not a grant)
//	4 diploma.issue by uni        <- the certified entry
//	5 role.grant university to uni3, by ministry (after it)
type roleLog struct {
	*testLog
	root, ministry, uni, uni2 *entry.PrivateKey
}

func newRoleLog(t testing.TB) *roleLog {
	l := &roleLog{testLog: newTestLog(t)}
	key := func() *entry.PrivateKey {
		k, err := entry.GenerateKey(entry.KeyEd25519)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	l.root, l.ministry, l.uni, l.uni2 = key(), key(), key(), key()
	uni3 := key()
	l.addSigned(entry.TypeRoleGrant, "role/education-ministry/"+string(l.ministry.Public), &entry.RoleFields{Role: rules.RoleEduMinistry, Holder: l.ministry.Public}, l.root)
	l.addSigned(entry.TypeRoleGrant, "role/university/"+string(l.uni.Public), &entry.RoleFields{Role: rules.RoleUniversity, Holder: l.uni.Public}, l.ministry)
	l.addSigned(entry.TypeRoleGrant, "role/university/"+string(l.uni2.Public), &entry.RoleFields{Role: rules.RoleUniversity, Holder: l.uni2.Public}, l.ministry)
	l.addEntry("land/parcel-x")
	l.addSigned(entry.TypeDiplomaIssue, "diploma/"+strings.Repeat("ab", 32), &entry.HolderFields{Holder: l.signerKey.Public}, l.uni)
	l.addSigned(entry.TypeRoleGrant, "role/university/"+string(uni3.Public), &entry.RoleFields{Role: rules.RoleUniversity, Holder: uni3.Public}, l.ministry)
	return l
}

func (l *roleLog) addSigned(typ, object string, fields any, keys ...*entry.PrivateKey) {
	l.t.Helper()
	p := &entry.Payload{Log: l.origin, Type: typ, Object: object, Time: 1700000000, Fields: fields,
		Docs: []entry.Commitment{entry.CommitWithSalt("record", l.docSalt, l.docText)}}
	raw, err := entry.New(p, keys...)
	if err != nil {
		l.t.Fatal(err)
	}
	l.add(raw)
}

// grant returns entry index with its inclusion proof in the tree of size.
func (l *roleLog) grant(index, size int) Grant {
	l.t.Helper()
	rp, err := tlog.ProveRecord(int64(size), int64(index), tlog.HashReaderFunc(l.hashAt))
	if err != nil {
		l.t.Fatal(err)
	}
	g := Grant{Index: uint64(index), Entry: l.entries[index]}
	for _, h := range rp {
		g.Hashes = append(g.Hashes, append([]byte(nil), h[:]...))
	}
	return g
}

// diploma is the certificate of the diploma (entry 4 of 6) with the grants at
// the given indices.
func (l *roleLog) diploma(grants ...int) *Certificate {
	c := l.cert(4, 6, testNow, 0, 1, 2)
	for _, i := range grants {
		c.Grants = append(c.Grants, l.grant(i, 6))
	}
	return c
}

func (l *roleLog) roots() Roots { return Roots{l.origin: {l.root.Public}} }

func TestRolesAsRecorded(t *testing.T) {
	l := newRoleLog(t)
	b, err := l.diploma(0, 1).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := VerifyWithRoots(l.policy(), l.roots(), c, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := "signed by:  " + string(l.uni.Public) + " as university (granted at entry 1 by education-ministry " + string(l.ministry.Public) +
		", granted at entry 0 by root " + string(l.root.Public) + ")"
	if len(s.Proven) != 1 || s.Roles != RolesAsRecorded || !strings.Contains(s.String(), want) ||
		!strings.Contains(s.String(), "a revocation after a grant is not ruled out offline") {
		t.Fatalf("summary %+v:\n%s", s.Proven, s)
	}
	t.Logf("certificate of %d bytes:\n%s", len(b), s)

	// Without trusted roots the chain is checked but its root is not.
	s, err = Verify(l.policy(), c, testNow, time.Hour)
	if err != nil || !strings.Contains(s.Roles, "not up to a root you trust") || len(s.Proven) != 1 {
		t.Fatalf("without roots: %v, %v", err, s)
	}
	// A certificate without grants, without roots: not proven, not refused.
	s, err = Verify(l.policy(), l.diploma(), testNow, time.Hour)
	if err != nil || s.Roles != RolesNotProven {
		t.Fatalf("without grants: %v, %v", err, s)
	}
	// The grant of the ministry, certified itself, needs a root signer.
	c = l.cert(0, 6, testNow, 0, 1, 2)
	if s, err = VerifyWithRoots(l.policy(), l.roots(), c, testNow, time.Hour); err != nil || len(s.Proven) != 1 || s.Proven[0].Role != rules.Root {
		t.Fatalf("grant by root: %v, %+v", err, s)
	}
	if _, err = VerifyWithRoots(l.policy(), Roots{l.origin: {l.uni2.Public}}, c, testNow, time.Hour); !errors.Is(err, ErrRole) {
		t.Fatalf("grant by an untrusted root: %v", err)
	}
	// An entry that needs no role.
	if s, err = VerifyWithRoots(l.policy(), l.roots(), l.cert(3, 6, testNow, 0, 1), testNow, time.Hour); err == nil {
		t.Fatalf("land.register without grants verified: %s", s)
	}
}

// TestRoleTamperingRefused: each way a certificate's grants can fail to prove
// the signer's role is refused with its reason and a precise detail.
func TestRoleTamperingRefused(t *testing.T) {
	l := newRoleLog(t)
	other, _ := entry.GenerateKey(entry.KeyEd25519)
	for _, tc := range []struct {
		name   string
		c      func() *Certificate
		roots  Roots
		want   error
		detail string
	}{
		{"university grant dropped", func() *Certificate { return l.diploma(0) }, nil, ErrRole, "no grant of it to any of its signers"},
		{"every grant dropped", func() *Certificate { return l.diploma() }, nil, ErrRole, "no grant of it"},
		{"ministry grant dropped", func() *Certificate { return l.diploma(1) }, nil, ErrRole,
			"the grant at entry 1 of the role university to " + string(l.uni.Public) + ": a role.grant entry needs a signer holding the role education-ministry"},
		{"swapped for another key's grant", func() *Certificate { return l.diploma(0, 2) }, nil, ErrRole, "needs a signer holding the role university"},
		{"a grant too many", func() *Certificate { return l.diploma(0, 1, 2) }, nil, ErrRole, "the grant at entry 2 (role university to " + string(l.uni2.Public) + ") proves no role"},
		{"chain ends at an untrusted root", func() *Certificate { return l.diploma(0, 1) }, Roots{l.origin: {other.Public}}, ErrRole,
			string(l.root.Public) + " signed as a root key, but it is not a root key you trust"},
		{"grant after the entry", func() *Certificate {
			c := l.diploma(0, 1)
			c.Grants = append(c.Grants, l.grant(5, 6))
			return c
		}, nil, ErrGrant, "not before the certified entry"},
		{"not a grant", func() *Certificate { return l.diploma(0, 1, 3) }, nil, ErrGrant, "is a land.register entry"},
		{"grant proof hash", func() *Certificate {
			c := l.diploma(0, 1)
			c.Grants[1].Hashes[0][3] ^= 1
			return c
		}, nil, ErrGrant, "not proven in the checkpoint"},
		{"grant index", func() *Certificate {
			c := l.diploma(0, 1)
			c.Grants[1].Index = 2
			return c
		}, nil, ErrGrant, "not proven in the checkpoint"},
		{"grant entry", func() *Certificate {
			c := l.diploma(0, 1)
			c.Grants[0].Entry = l.entries[2]
			return c
		}, nil, ErrGrant, "not proven in the checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roots := tc.roots
			if roots == nil {
				roots = l.roots()
			}
			b, err := tc.c().Marshal()
			var c *Certificate
			if err == nil {
				c, err = ParseCertificate(b)
			}
			if err == nil {
				_, err = VerifyWithRoots(l.policy(), roots, c, testNow, time.Hour)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("err = %v, want %v with %q", err, tc.want, tc.detail)
			}
			for _, r := range allReasons {
				if r != tc.want && errors.Is(err, r) {
					t.Fatalf("err = %v is also %v", err, r)
				}
			}
			t.Log(err)
		})
	}
}

func TestGrantsCanonical(t *testing.T) {
	l := newRoleLog(t)
	for name, c := range map[string]*Certificate{
		"out of order": l.diploma(1, 0),
		"repeated":     l.diploma(0, 0, 1),
		"empty list":   {Entry: l.entries[4], Grants: []Grant{}},
	} {
		if _, err := c.Marshal(); !errors.Is(err, ErrMalformedCertificate) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := l.diploma(0, 1)
	c.Grants[0].Hashes[0] = c.Grants[0].Hashes[0][:31]
	if _, err := c.Marshal(); !errors.Is(err, ErrMalformedCertificate) {
		t.Errorf("short hash: %v", err)
	}
}

func TestParseRoots(t *testing.T) {
	l := newRoleLog(t)
	text := l.policyText() + "# tabularium-roots " + l.origin + " " + string(l.root.Public) + " " + string(l.uni.Public) + "\n# a comment\n"
	roots, err := ParseRoots([]byte(text), l.policy())
	if err != nil || len(roots[l.origin]) != 2 || roots[l.origin][0] != l.root.Public {
		t.Fatalf("%v %v", roots, err)
	}
	for _, bad := range []string{
		"# tabularium-roots " + l.origin + "\n",
		"# tabularium-roots other.example/log " + string(l.root.Public) + "\n",
		"# tabularium-roots " + l.origin + " ed25519:nope!\n",
	} {
		if _, err := ParseRoots([]byte(l.policyText()+bad), l.policy()); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/tabularium/tabularium/personality/entry"
)

// testLog is a registry log replayed into a Memory, as an auditor does.
type testLog struct {
	t    testing.TB
	cfg  Config
	mem  *Memory
	root *entry.PrivateKey
	time int64
	seq  int
}

func newTestLog(t testing.TB, kind string) *testLog {
	t.Helper()
	root := newKey(t)
	l := &testLog{t: t, mem: NewMemory(), root: root, time: 1_700_000_000}
	l.cfg = Config{Log: "tabularium.test/" + kind, Kind: kind, Roots: []entry.PublicKey{root.Public}, RecoveryWait: 3600}
	return l
}

func newKey(t testing.TB) *entry.PrivateKey {
	t.Helper()
	k, err := entry.GenerateKey(entry.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testDoc(kind string) entry.Commitment {
	return entry.CommitWithSalt(kind, []byte("salt"), []byte(kind))
}

// payload builds a payload for object with prev set to its latest hash.
func (l *testLog) payload(typ, object string, fields any, docs ...entry.Commitment) *entry.Payload {
	l.time++
	return &entry.Payload{Log: l.cfg.Log, Type: typ, Object: object, Prev: l.prev(object), Time: l.time, Fields: fields, Docs: docs}
}

func (l *testLog) prev(id string) []byte {
	if o := l.object(id); o != nil {
		return o.Hash
	}
	return nil
}

func (l *testLog) object(id string) *Object {
	l.t.Helper()
	o, err := l.mem.Object(id)
	if err != nil {
		l.t.Fatal(err)
	}
	return o
}

// apply signs p with keys, replays it at the next position and returns the
// refusal, if any.
func (l *testLog) apply(p *entry.Payload, keys ...*entry.PrivateKey) *Error {
	l.t.Helper()
	raw, err := entry.New(p, keys...)
	if err != nil {
		l.t.Fatalf("build %s: %v", p.Type, err)
	}
	i := l.mem.Meta.Size
	if err := l.mem.Replay(&l.cfg, raw, i); err != nil {
		l.t.Fatal(err)
	}
	return l.mem.Rejected[i]
}

func (l *testLog) must(p *entry.Payload, keys ...*entry.PrivateKey) uint64 {
	l.t.Helper()
	if err := l.apply(p, keys...); err != nil {
		l.t.Fatalf("%s on %s refused: %v", p.Type, p.Object, err)
	}
	return l.mem.Meta.Size - 1
}

// refused checks the refusal's code, and that it changed nothing.
func (l *testLog) refused(code string, p *entry.Payload, keys ...*entry.PrivateKey) *Error {
	l.t.Helper()
	before := snapshot(l.mem)
	err := l.apply(p, keys...)
	if err == nil || err.Code != code {
		l.t.Fatalf("%s on %s: got %v, want %s", p.Type, p.Object, err, code)
	}
	if after := snapshot(l.mem); after != before {
		l.t.Fatalf("%s on %s was refused but changed the state", p.Type, p.Object)
	}
	return err
}

func snapshot(m *Memory) string {
	h := sha256.New()
	for _, id := range m.IDs() {
		fmt.Fprintf(h, "%s=%x;", id, m.Encoded()[id])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (l *testLog) grant(role string, holder, granter *entry.PrivateKey) {
	l.t.Helper()
	l.must(l.payload(entry.TypeRoleGrant, "role/"+role+"/"+string(holder.Public), &entry.RoleFields{Role: role, Holder: holder.Public}), granter)
}

func (l *testLog) revokeRole(role string, holder entry.PublicKey, granter *entry.PrivateKey) {
	l.t.Helper()
	l.must(l.payload(entry.TypeRoleRevoke, "role/"+role+"/"+string(holder), &entry.RoleFields{Role: role, Holder: holder}), granter)
}

func (l *testLog) newID(family string) string {
	l.seq++
	if family == "land" {
		return fmt.Sprintf("land/parcel-%d", l.seq)
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s %d", family, l.seq))
	return family + "/" + hex.EncodeToString(h[:])
}

func share(k *entry.PrivateKey, s string) entry.Share { return entry.Share{Key: k.Public, Share: s} }

func owners(ks ...*entry.PrivateKey) []entry.Share {
	out := make([]entry.Share, len(ks))
	for i, k := range ks {
		out[i] = share(k, fmt.Sprintf("1/%d", len(ks)))
	}
	if len(ks) == 1 {
		out[0].Share = "1"
	}
	return out
}

// land is a land registry with its officers.
type land struct {
	*testLog
	reg, reg2, notary, bank, court *entry.PrivateKey
}

func newLandLog(t testing.TB) *land {
	l := &land{testLog: newTestLog(t, KindLand), reg: newKey(t), reg2: newKey(t), notary: newKey(t), bank: newKey(t), court: newKey(t)}
	l.grant(RoleRegistrar, l.reg, l.root)
	l.grant(RoleRegistrar, l.reg2, l.root)
	l.grant(RoleNotary, l.notary, l.root)
	l.grant(RoleBank, l.bank, l.root)
	l.grant(RoleCourt, l.court, l.root)
	return l
}

func (l *land) register(ks ...*entry.PrivateKey) string {
	l.t.Helper()
	id := l.newID("land")
	l.must(l.payload(entry.TypeLandRegister, id, &entry.OwnersFields{Owners: owners(ks...)}, testDoc("deed")), l.reg)
	return id
}

// transfer sells id from sellers to buyers, with the notary.
func (l *land) transfer(id string, sellers, buyers []*entry.PrivateKey, extra ...*entry.PrivateKey) uint64 {
	l.t.Helper()
	keys := append(append(append([]*entry.PrivateKey{}, sellers...), buyers...), l.notary)
	return l.must(l.payload(entry.TypeLandTransfer, id, &entry.TransferFields{Buyers: owners(buyers...)}, testDoc("deed")), append(keys, extra...)...)
}

func (l *land) pledge(id string, bank *entry.PrivateKey, owners ...*entry.PrivateKey) uint64 {
	l.t.Helper()
	return l.must(l.payload(entry.TypeLandPledge, id, &entry.PledgeFields{Pledgee: bank.Public}), append(owners, bank, l.reg)...)
}

func (l *testLog) rotate(old, next *entry.PrivateKey) *entry.Payload {
	return l.payload(entry.TypeKeyRotate, "key/"+string(old.Public), &entry.KeyFields{New: next.Public})
}

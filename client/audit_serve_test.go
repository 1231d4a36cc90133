package client

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log/tiles"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// tileView serves a testLog over c2sp.org/tlog-tiles with log/tiles.Handler:
// the tiles are made by golang.org/x/mod/sumdb/tlog, independently of the
// auditor's tree code. The log shown and its checkpoint can be switched, to
// show a fork.
type tileView struct {
	mu     sync.Mutex
	l      *testLog
	cp     []byte
	bundle func(index uint64, entries [][]byte) [][]byte // tampers with bundles if set
	reads  int                                           // entry bundles served
	cps    int                                           // checkpoints served
}

// show makes the view serve l with a checkpoint of its whole tree, cosigned by
// witnesses 0 and 1.
func (v *tileView) show(l *testLog) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.l, v.cp = l, l.checkpoint(len(l.entries), testNow, 0, 1)
}

func (v *tileView) ReadCheckpoint(context.Context) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cps++
	return v.cp, nil
}

// checkpointsServed returns how many times the view's checkpoint was read.
func (v *tileView) checkpointsServed() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cps
}

func (v *tileView) ReadTile(_ context.Context, level, index uint64, p uint8) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := int(p)
	if w == 0 {
		w = 256
	}
	size := int64(len(v.l.entries))
	if (int64(index)*256+int64(w))<<(8*level) > size {
		return nil, os.ErrNotExist
	}
	return tlog.ReadTileData(tlog.Tile{H: 8, L: int(level), N: int64(index), W: w}, tlog.HashReaderFunc(v.l.hashAt))
}

func (v *tileView) ReadEntryBundle(_ context.Context, index uint64, p uint8) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := uint64(p)
	if w == 0 {
		w = 256
	}
	if (index*256 + w) > uint64(len(v.l.entries)) {
		return nil, os.ErrNotExist
	}
	v.reads++
	es := v.l.entries[index*256 : index*256+w]
	if v.bundle != nil {
		es = v.bundle(index, es)
	}
	var b []byte
	for _, e := range es {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

// serve starts an HTTP server for the view and returns a fetcher of it.
func (v *tileView) serve(t testing.TB) *Fetcher {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /logs/land/{path...}", tiles.Handler{Reader: v})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return NewFetcher(srv.URL, "land", srv.Client())
}

// registry writes valid land registry entries into a testLog: a root that
// grants roles, a registrar, a bank, and owners.
type registry struct {
	t    testing.TB
	l    *testLog
	cfg  rules.Config
	root *entry.PrivateKey
	reg  *entry.PrivateKey
	bank *entry.PrivateKey
	prev map[string][]byte
	time int64
}

func newRegistry(t testing.TB) *registry {
	t.Helper()
	r := &registry{t: t, l: newTestLog(t), prev: map[string][]byte{}, time: 1_700_000_000}
	r.root, r.reg, r.bank = testKey(t), testKey(t), testKey(t)
	r.cfg = rules.Config{Log: testOrigin, Kind: rules.KindLand, Roots: []entry.PublicKey{r.root.Public}, RecoveryWait: 3600}
	r.add(entry.TypeRoleGrant, "role/registrar/"+string(r.reg.Public), &entry.RoleFields{Role: rules.RoleRegistrar, Holder: r.reg.Public}, r.root)
	r.add(entry.TypeRoleGrant, "role/bank/"+string(r.bank.Public), &entry.RoleFields{Role: rules.RoleBank, Holder: r.bank.Public}, r.root)
	return r
}

func testKey(t testing.TB) *entry.PrivateKey {
	t.Helper()
	k, err := entry.GenerateKey(entry.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// add signs an entry on object's latest state with keys and appends it.
func (r *registry) add(typ, object string, fields any, keys ...*entry.PrivateKey) uint64 {
	r.t.Helper()
	r.time++
	p := &entry.Payload{Log: testOrigin, Type: typ, Object: object, Prev: r.prev[object], Time: r.time, Fields: fields}
	raw, err := entry.New(p, keys...)
	if err != nil {
		r.t.Fatal(err)
	}
	r.l.add(raw)
	h := entry.Hash(raw)
	r.prev[object] = h[:]
	return uint64(len(r.l.entries) - 1)
}

// parcel registers a parcel owned by owner.
func (r *registry) parcel(id string, owner *entry.PrivateKey) uint64 {
	return r.add(entry.TypeLandRegister, id, &entry.OwnersFields{Owners: []entry.Share{{Key: owner.Public, Share: "1"}}}, r.reg, owner)
}

// transfer sells a parcel from seller to buyer, signed by keys.
func (r *registry) transfer(id string, buyer *entry.PrivateKey, keys ...*entry.PrivateKey) uint64 {
	return r.add(entry.TypeLandTransfer, id, &entry.TransferFields{Buyers: []entry.Share{{Key: buyer.Public, Share: "1"}}}, keys...)
}

// grow adds n parcels, each registered and sold once.
func (r *registry) grow(n int) {
	for i := 0; i < n; i++ {
		a, b := testKey(r.t), testKey(r.t)
		id := fmt.Sprintf("land/%d-%d", len(r.l.entries), i)
		r.parcel(id, a)
		r.transfer(id, b, a, b, r.reg)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/tessera"

	tlog "github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/log/tiles"
	"github.com/tabularium/tabularium/personality/api"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

const landOrigin = "tabularium.local/land"

// landServer is the tabularium server's land log run in-process, laid out as
// the default configuration lays out its data folder: the log in
// <data>/land, its key and root authority key in <data>/keys/.
type landServer struct {
	t      *testing.T
	data   string
	signer string // the log's secret key
	vkey   string
	root   *entry.PrivateKey
	log    *engine.Log
	reg    *registry.Registry
	reader atomic.Pointer[tessera.LogReader] // what the tiles endpoint serves
	url    string
	prev   map[string][]byte
	time   int64
}

func newLandServer(t *testing.T) *landServer {
	t.Helper()
	s := &landServer{t: t, data: t.TempDir(), prev: map[string][]byte{}, time: 1_700_000_000}
	var err error
	if s.signer, s.vkey, err = tlog.GenerateKey(landOrigin); err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(filepath.Join(s.data, "keys", "land.key"), s.signer); err != nil {
		t.Fatal(err)
	}
	s.root = newKey(t)
	pemText, _ := s.root.MarshalPEM()
	if err := keyfile.Write(filepath.Join(s.data, "keys", "land-root.key"), strings.TrimSpace(string(pemText))); err != nil {
		t.Fatal(err)
	}
	s.log = s.openLog(filepath.Join(s.data, "land"))
	s.reader.Store(ptr(s.log.Reader()))
	cfg := rules.Config{Log: landOrigin, Kind: rules.KindLand, Roots: []entry.PublicKey{s.root.Public}, RecoveryWait: int64(defaultRecoveryWait.Seconds())}
	store, err := state.Open(filepath.Join(s.data, "state.db"), landOrigin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if s.reg, err = registry.Open(context.Background(), cfg, s.log, store, registry.Options{Now: func() time.Time { return time.Unix(s.time+60, 0) }}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(map[string]*registry.Registry{"land": s.reg}, nil).Register(mux)
	mux.Handle("GET /logs/land/{path...}", tiles.Handler{Reader: switchReader{&s.reader}})
	mux.HandleFunc("GET /logs", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode([]logInfo{{Name: "land", Origin: landOrigin, VKey: s.vkey}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func ptr[T any](v T) *T { return &v }

func newKey(t *testing.T) *entry.PrivateKey {
	t.Helper()
	k, err := entry.GenerateKey(entry.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openLog opens a POSIX log folder with the server's key.
func (s *landServer) openLog(dir string) *engine.Log {
	s.t.Helper()
	signer, err := tlog.NewSigner(s.signer)
	if err != nil {
		s.t.Fatal(err)
	}
	l, err := engine.OpenPOSIX(context.Background(), engine.POSIXConfig{Dir: dir, Signer: signer, VKey: s.vkey,
		Options: engine.Options{CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond, AwaitPoll: 10 * time.Millisecond, NoAntispam: true}})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { closeLog(l) })
	return l
}

func closeLog(l *engine.Log) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = l.Close(ctx)
}

// switchReader serves whichever log reader it points at.
type switchReader struct {
	p *atomic.Pointer[tessera.LogReader]
}

func (r switchReader) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return (*r.p.Load()).ReadCheckpoint(ctx)
}
func (r switchReader) ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error) {
	return (*r.p.Load()).ReadTile(ctx, l, i, p)
}
func (r switchReader) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	return (*r.p.Load()).ReadEntryBundle(ctx, i, p)
}

// entry signs an entry on the object's latest state.
func (s *landServer) entry(typ, object string, fields any, docs []entry.Commitment, keys ...*entry.PrivateKey) []byte {
	s.t.Helper()
	s.time++
	raw, err := entry.New(&entry.Payload{Log: landOrigin, Type: typ, Object: object, Prev: s.prev[object], Time: s.time, Fields: fields, Docs: docs}, keys...)
	if err != nil {
		s.t.Fatal(err)
	}
	return raw
}

// submit sends an entry through the registry, which checks the rules, and
// waits until it is published.
func (s *landServer) submit(typ, object string, fields any, docs []entry.Commitment, keys ...*entry.PrivateKey) uint64 {
	s.t.Helper()
	raw := s.entry(typ, object, fields, docs, keys...)
	rc, err := s.reg.Submit(context.Background(), raw, true)
	if err != nil {
		s.t.Fatalf("submit %s %s: %v", typ, object, err)
	}
	h := entry.Hash(raw)
	s.prev[object] = h[:]
	return rc.Index
}

// smuggle appends an entry straight to the log, as a misbehaving server
// would, skipping the rules, and waits until it is published.
func (s *landServer) smuggle(l *engine.Log, raw []byte) uint64 {
	s.t.Helper()
	ctx := context.Background()
	idx, err := l.Add(ctx, raw)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := l.AwaitPublished(ctx, idx.Index); err != nil {
		s.t.Fatal(err)
	}
	return idx.Index
}

func (s *landServer) grant(role string, k *entry.PrivateKey) {
	s.submit(entry.TypeRoleGrant, "role/"+role+"/"+string(k.Public), &entry.RoleFields{Role: role, Holder: k.Public}, nil, s.root)
}

// people is a small land registry: a registrar, a bank, parcels 7 and 8.
type people struct{ reg, bank, owner, buyer, other *entry.PrivateKey }

func (s *landServer) seed() people {
	p := people{newKey(s.t), newKey(s.t), newKey(s.t), newKey(s.t), newKey(s.t)}
	s.grant(rules.RoleRegistrar, p.reg)
	s.grant(rules.RoleBank, p.bank)
	s.submit(entry.TypeLandRegister, "land/7", &entry.OwnersFields{Owners: []entry.Share{{Key: p.owner.Public, Share: "1"}}}, nil, p.reg, p.owner)
	s.submit(entry.TypeLandRegister, "land/8", &entry.OwnersFields{Owners: []entry.Share{{Key: p.other.Public, Share: "1"}}}, nil, p.reg, p.other)
	return p
}

// tab runs the CLI and returns its stdout.
func tab(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, &out, &errb)
	return out.String() + errb.String(), err
}

func TestAuditOfARealServerIsClean(t *testing.T) {
	s := newLandServer(t)
	p := s.seed()
	s.submit(entry.TypeLandTransfer, "land/7", &entry.TransferFields{Buyers: []entry.Share{{Key: p.buyer.Public, Share: "1"}}}, nil, p.owner, p.buyer, p.reg)
	s.submit(entry.TypeLandPledge, "land/7", &entry.PledgeFields{Pledgee: p.bank.Public}, nil, p.buyer, p.bank, p.reg)
	out, err := tab("audit", "--log", s.url+"/logs/land", "--data", s.data, "--state", t.TempDir(), "--compare-state")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Two roles, two parcels, and the key objects that hold the standing of
	// the registrar, the bank, the first owner (none left), the other owner
	// and the buyer.
	for _, want := range []string{"audited tabularium.local/land: 6 entries", "compared 9 objects", "OK: every entry obeys"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// With the root key and log key given explicitly instead of --data.
	out, err = tab("audit", "--server", s.url, "--log", "land", "--log-key", s.vkey, "--root", string(s.root.Public))
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("%v\n%s", err, out)
	}
	// Wrong root keys: every role grant, hence every entry, breaks a rule.
	out, err = tab("audit", "--server", s.url, "--log", "land", "--log-key", s.vkey, "--root", string(p.other.Public))
	if !errors.Is(err, errAuditFailed) || !strings.Contains(out, "RULE BROKEN by entry 0: role-not-held") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestAuditFindsEntryAMisbehavingServerLetThrough(t *testing.T) {
	s := newLandServer(t)
	p := s.seed()
	// A transfer of parcel 7 signed by the buyer and a registrar, not by its owner.
	stolen := s.smuggle(s.log, s.entry(entry.TypeLandTransfer, "land/7", &entry.TransferFields{Buyers: []entry.Share{{Key: p.buyer.Public, Share: "1"}}}, nil, p.buyer, p.reg))
	// The server goes on accepting valid entries after it.
	s.submit(entry.TypeLandTransfer, "land/8", &entry.TransferFields{Buyers: []entry.Share{{Key: p.buyer.Public, Share: "1"}}}, nil, p.other, p.buyer, p.reg)
	out, err := tab("audit", "--log", s.url+"/logs/land", "--data", s.data, "--compare-state")
	if !errors.Is(err, errAuditFailed) {
		t.Fatalf("err = %v\n%s", err, out)
	}
	want := fmt.Sprintf("RULE BROKEN by entry %d: %s:", stolen, rules.CodeMissingSignature)
	if !strings.Contains(out, want) || strings.Count(out, "RULE BROKEN") != 1 || strings.Contains(out, "STATE DIFFERS") {
		t.Fatalf("output lacks %q alone:\n%s", want, out)
	}
	t.Log(out)
}

// TestAuditDetectsRollbackAndSplitView audits a log, then shows the auditor
// an older copy of the log's folder (a rollback) or a copy that grew apart
// (a split view): the second run fails with both checkpoints as evidence.
func TestAuditDetectsRollbackAndSplitView(t *testing.T) {
	s := newLandServer(t)
	s.seed() // 4 entries
	closeLog(s.log)
	old := filepath.Join(t.TempDir(), "land-old")
	if err := os.CopyFS(old, os.DirFS(filepath.Join(s.data, "land"))); err != nil {
		t.Fatal(err)
	}
	main := s.openLog(filepath.Join(s.data, "land"))
	for i := 0; i < 2; i++ {
		k := newKey(t)
		s.smuggle(main, s.entry(entry.TypeRoleGrant, "role/notary/"+string(k.Public), &entry.RoleFields{Role: rules.RoleNotary, Holder: k.Public}, nil, s.root))
	}
	s.reader.Store(ptr(main.Reader()))
	audit := func(state string) (string, error) {
		return tab("audit", "--log", s.url+"/logs/land", "--data", s.data, "--state", state)
	}
	rollbackState, splitState := t.TempDir(), t.TempDir()
	for _, st := range []string{rollbackState, splitState} {
		if out, err := audit(st); err != nil || !strings.Contains(out, "6 entries") {
			t.Fatalf("first audit: %v\n%s", err, out)
		}
	}
	seen, _ := main.Reader().ReadCheckpoint(context.Background())
	closeLog(main)

	forked := s.openLog(old)
	s.reader.Store(ptr(forked.Reader()))
	shown, _ := forked.Reader().ReadCheckpoint(context.Background())
	out, err := audit(rollbackState)
	if !errors.Is(err, errAuditFailed) || !strings.Contains(out, "LOG INCONSISTENT: log rolled back") ||
		!strings.Contains(out, indent(seen)) || !strings.Contains(out, indent(shown)) {
		t.Fatalf("rollback: %v\n%s", err, out)
	}

	for i := 0; i < 4; i++ {
		k := newKey(t)
		s.smuggle(forked, s.entry(entry.TypeRoleGrant, "role/court/"+string(k.Public), &entry.RoleFields{Role: rules.RoleCourt, Holder: k.Public}, nil, s.root))
	}
	shown, _ = forked.Reader().ReadCheckpoint(context.Background())
	out, err = audit(splitState)
	if !errors.Is(err, errAuditFailed) || !strings.Contains(out, "LOG INCONSISTENT: split view") ||
		!strings.Contains(out, indent(seen)) || !strings.Contains(out, indent(shown)) || !strings.Contains(out, "consistency proof served") {
		t.Fatalf("split view: %v\n%s", err, out)
	}
	t.Log(out)
}

func TestWatchPrintsTransferAndPledgeOfAWatchedParcel(t *testing.T) {
	s := newLandServer(t)
	p := s.seed()
	sold := s.submit(entry.TypeLandTransfer, "land/7", &entry.TransferFields{Buyers: []entry.Share{{Key: p.buyer.Public, Share: "1"}}}, nil, p.owner, p.buyer, p.reg)
	s.submit(entry.TypeLandTransfer, "land/8", &entry.TransferFields{Buyers: []entry.Share{{Key: p.buyer.Public, Share: "1"}}}, nil, p.other, p.buyer, p.reg)
	pledged := s.submit(entry.TypeLandPledge, "land/7", &entry.PledgeFields{Pledgee: p.bank.Public}, nil, p.buyer, p.bank, p.reg)
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"watch", "--server", s.url, "--log", "land", "--data", s.data, "--object", "land/7", "--from", "3", "--once"}, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], fmt.Sprintf("entry %d: land.transfer land/7", sold)) ||
		!strings.HasPrefix(lines[1], fmt.Sprintf("entry %d: land.pledge land/7", pledged)) {
		t.Fatalf("watch printed:\n%s", out.String())
	}
}

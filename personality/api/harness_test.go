package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/log/engine/enginetest"

	"github.com/tabularium/tabularium/log/engine"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/registry"
	"github.com/tabularium/tabularium/personality/rules"
	"github.com/tabularium/tabularium/personality/state"
)

// env is a real server: an httptest.Server around the API on a real POSIX log.
type env struct {
	t      *testing.T
	name   string
	cfg    rules.Config
	log    *engine.Log
	store  *state.Store
	reg    *registry.Registry
	srv    *httptest.Server
	root   *entry.PrivateKey
	clock  atomic.Int64
	faults *faultLog
}

const baseTime = 1_700_000_000

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	ctx := context.Background()
	name := kind
	origin := "tabularium.local/" + name
	dir := t.TempDir()
	lg := enginetest.OpenPOSIX(t, origin,
		engine.Options{CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond, AwaitPoll: 20 * time.Millisecond, NoAntispam: true})
	var err error
	root := key(t)
	e := &env{t: t, name: name, log: lg, root: root}
	e.clock.Store(baseTime)
	e.cfg = rules.Config{Log: origin, Kind: kind, Roots: []entry.PublicKey{root.Public}, RecoveryWait: 3600}
	if e.store, err = state.Open(filepath.Join(dir, "state.db"), origin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.faults = &faultLog{Log: lg}
	e.reg, err = registry.Open(ctx, e.cfg, e.faults, e.store, registry.Options{Now: func() time.Time { return time.Unix(e.clock.Load(), 0) }})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(New(map[string]*registry.Registry{name: e.reg}, nil))
	t.Cleanup(e.srv.Close)
	return e
}

// faultLog is the engine log with injectable faults.
type faultLog struct {
	registry.Log
	pushback atomic.Bool // Enqueue's futures answer engine.ErrPushback
}

func (f *faultLog) Enqueue(ctx context.Context, data []byte) (engine.Future, error) {
	if f.pushback.Load() {
		return nil, fmt.Errorf("injected: %w", engine.ErrPushback)
	}
	return f.Log.Enqueue(ctx, data)
}

func key(t testing.TB) *entry.PrivateKey {
	t.Helper()
	k, err := entry.GenerateKey(entry.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func doc(kind string) entry.Commitment {
	return entry.CommitWithSalt(kind, []byte("salt"), []byte(kind+" document"))
}

// reply is a decoded response.
type reply struct {
	Status int
	Code   string
	Body   []byte
	Index  uint64
	Hash   string
}

// tick advances the test clock by one second and returns it.
func (e *env) tick() int64 { return e.clock.Add(1) }

// payload builds a payload for object with prev set to the object's latest hash.
func (e *env) payload(typ, object string, fields any, docs ...entry.Commitment) *entry.Payload {
	return &entry.Payload{Log: e.cfg.Log, Type: typ, Object: object, Prev: e.prev(object), Time: e.tick(), Fields: fields, Docs: docs}
}

func (e *env) prev(object string) []byte {
	o, err := e.reg.Object(object)
	if err != nil {
		e.t.Fatal(err)
	}
	if o == nil {
		return nil
	}
	return o.Hash
}

// submit signs p with keys and posts it.
func (e *env) submit(p *entry.Payload, keys ...*entry.PrivateKey) reply {
	e.t.Helper()
	raw, err := entry.New(p, keys...)
	if err != nil {
		e.t.Fatalf("build %s: %v", p.Type, err)
	}
	return e.post(raw, "")
}

func (e *env) post(raw []byte, query string) reply {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/logs/"+e.name+"/entries"+query, ContentType, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := reply{Status: resp.StatusCode, Body: body}
	var ok SubmitResponse
	var bad ErrorResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &ok); err != nil {
			e.t.Fatalf("decode %s: %v", body, err)
		}
		r.Index, r.Hash = ok.Index, ok.EntryHash
	} else if json.Unmarshal(body, &bad) == nil {
		r.Code = bad.Code
	}
	return r
}

// must submits and fails the test unless the entry is accepted.
func (e *env) must(p *entry.Payload, keys ...*entry.PrivateKey) reply {
	e.t.Helper()
	r := e.submit(p, keys...)
	if r.Status != http.StatusOK {
		e.t.Fatalf("%s on %s: %d %s", p.Type, p.Object, r.Status, r.Body)
	}
	return r
}

// refused submits and checks the refusal's status and code.
func (e *env) refused(status int, code string, p *entry.Payload, keys ...*entry.PrivateKey) {
	e.t.Helper()
	r := e.submit(p, keys...)
	if r.Status != status || r.Code != code {
		e.t.Fatalf("%s on %s: got %d %q (%s), want %d %q", p.Type, p.Object, r.Status, r.Code, r.Body, status, code)
	}
}

// grant makes holder hold role, signed by granter.
func (e *env) grant(role string, holder, granter *entry.PrivateKey) {
	e.t.Helper()
	obj := "role/" + role + "/" + string(holder.Public)
	e.must(e.payload(entry.TypeRoleGrant, obj, &entry.RoleFields{Role: role, Holder: holder.Public}), granter)
}

// object fetches an object's state over HTTP.
func (e *env) object(id string) (*rules.Object, int) {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/logs/" + e.name + "/objects/" + id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode
	}
	var o rules.Object
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		e.t.Fatal(err)
	}
	return &o, resp.StatusCode
}

func hashedID(family, id string) string {
	h := sha256.Sum256([]byte(id))
	return family + "/" + hex.EncodeToString(h[:])
}

func share(k *entry.PrivateKey, s string) entry.Share { return entry.Share{Key: k.Public, Share: s} }

var parcelSeq atomic.Int64

func newParcel() string { return fmt.Sprintf("land/parcel-%d", parcelSeq.Add(1)) }

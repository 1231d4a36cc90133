package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/personality/rules"
)

// TestNoCertificateForAnEntryRefusedOnReplay: an entry that reached the log
// behind the registry's back (as a broken pipeline leaves one) and that the
// rules refuse when it is replayed gets no certificate from the proof
// endpoint, but a 409 with the refusal recorded on replay; before it is
// judged, a 503. The entries around it keep their certificates.
func TestNoCertificateForAnEntryRefusedOnReplay(t *testing.T) {
	data := t.TempDir()
	cfg := DefaultConfig(data)
	cfg.Logs = cfg.Logs[:1]
	cfg.Logs[0].CheckpointInterval = 100 * time.Millisecond
	cfg.Logs[0].BatchMaxAge = 5 * time.Millisecond
	ctx := t.Context()
	s, err := openServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.handler())
	t.Cleanup(func() { srv.Close(); _ = s.close(context.Background()) })
	rootPEM, err := os.ReadFile(RootKeyPath(data, "land"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := entry.ParsePrivateKeyPEM(rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	wl := &witnessedLand{url: srv.URL, root: root}
	wl.registrar, _ = entry.GenerateKey(entry.KeyEd25519)
	wl.owner, _ = entry.GenerateKey(entry.KeyEd25519)
	wl.submit(t, &entry.Payload{Type: entry.TypeRoleGrant, Object: "role/registrar/" + string(wl.registrar.Public),
		Fields: &entry.RoleFields{Role: "registrar", Holder: wl.registrar.Public}}, root)
	deed := []byte("deed")
	first := wl.register(t, "parcel-1", bytes.Repeat([]byte{1}, 32), deed)

	// A second registration of the same parcel, appended to the engine
	// directly: the rules refuse it (the parcel exists), but the log holds it.
	dup := wl.sign(t, &entry.Payload{Type: entry.TypeLandRegister, Object: "land/parcel-1",
		Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: wl.registrar.Public, Share: "1"}}},
		Docs:   []entry.Commitment{entry.CommitWithSalt("deed", bytes.Repeat([]byte{2}, 32), deed)}}, wl.registrar)
	sl := s.logs[0]
	idx, err := sl.log.Add(ctx, dup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sl.log.AwaitPublished(ctx, idx.Index); err != nil {
		t.Fatal(err)
	}
	proof := func(i uint64) (int, http.Header, []byte) {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("%s/logs/land/proof/%d", srv.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, resp.Header, b.Bytes()
	}
	// Published, not judged yet: the registry has not replayed it.
	if code, h, b := proof(idx.Index); code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("proof of an entry not judged yet: %d %s", code, b)
	}

	// The next submission finds the log moved, replays the entry (refused,
	// recorded) and is judged after it.
	next := wl.register(t, "parcel-2", bytes.Repeat([]byte{3}, 32), deed)
	if next != idx.Index+1 {
		t.Fatalf("next entry at %d, want %d", next, idx.Index+1)
	}
	code, h, b := proof(idx.Index)
	var got RefusedResponse
	if code != http.StatusConflict || h.Get("Content-Type") != "application/json" || json.Unmarshal(b, &got) != nil {
		t.Fatalf("proof of an entry refused on replay: %d %s %s", code, h.Get("Content-Type"), b)
	}
	recorded, err := sl.store.RejectedAt(idx.Index)
	if err != nil || recorded == nil {
		t.Fatalf("no refusal recorded at %d: %v", idx.Index, err)
	}
	if got.Code != rules.CodeObjectExists || got.Code != recorded.Code || got.Message != recorded.Message || got.Index != idx.Index {
		t.Fatalf("refusal answered %+v, recorded %+v", got, recorded)
	}
	t.Logf("%s", b)

	// The entries around it still get certificates that verify.
	p, err := log.ParsePolicy([]byte("log " + sl.log.VerifierKey() + "\nquorum none\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{first, next} {
		code, _, b := proof(i)
		if code != http.StatusOK {
			t.Fatalf("proof %d: %d %s", i, code, b)
		}
		c, err := client.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Verify(p, c, time.Now(), 0); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
	}
}

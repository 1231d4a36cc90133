package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tabularium/tabularium/client"
	"github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/api"
	"github.com/tabularium/tabularium/personality/entry"
	"github.com/tabularium/tabularium/witness"
)

// witnessedLand is a land log served by openServer under a 2-of-3 policy of
// three in-process witnesses, with a registrar and an owner.
type witnessedLand struct {
	url       string
	policy    *log.Policy
	policyTxt string
	root      *entry.PrivateKey
	registrar *entry.PrivateKey
	owner     *entry.PrivateKey
	witnesses []*httptest.Server
}

const landOrigin = "tabularium.local/land"

func startWitnessedLand(t *testing.T) *witnessedLand {
	t.Helper()
	data := t.TempDir()
	skey, vkey, err := log.GenerateKey(landOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(filepath.Join(data, "keys", "land.key"), skey); err != nil {
		t.Fatal(err)
	}
	wl := &witnessedLand{}
	policy := "log " + vkey + "\n"
	for i := 0; i < 3; i++ {
		wskey, _, _ := log.GenerateKey(fmt.Sprintf("w%d.witness.example", i))
		w, err := witness.New(witness.Config{SignerKey: wskey, Logs: []witness.Log{{Origin: landOrigin, VKey: vkey}}, Store: witness.NewMemoryStore()})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w)
		t.Cleanup(srv.Close)
		wl.witnesses = append(wl.witnesses, srv)
		policy += fmt.Sprintf("witness w%d %s %s\n", i, w.VerifierKey(), srv.URL)
	}
	policy += "group two-of-three 2 w0 w1 w2\nquorum two-of-three\n"
	wl.policyTxt = policy
	if err := os.WriteFile(filepath.Join(data, "land.policy"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	if wl.policy, err = log.ParsePolicy([]byte(policy)); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(data)
	cfg.Logs = cfg.Logs[:1]
	cfg.Logs[0].WitnessPolicy = filepath.Join(data, "land.policy")
	cfg.Logs[0].CheckpointInterval = 100 * time.Millisecond
	cfg.Logs[0].BatchMaxAge = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	s, err := openServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.handler())
	t.Cleanup(func() { srv.Close(); _ = s.close(context.Background()); cancel() })
	wl.url = srv.URL
	rootPEM, err := os.ReadFile(RootKeyPath(data, "land"))
	if err != nil {
		t.Fatal(err)
	}
	if wl.root, err = entry.ParsePrivateKeyPEM(rootPEM); err != nil {
		t.Fatal(err)
	}
	wl.registrar, _ = entry.GenerateKey(entry.KeyEd25519)
	wl.owner, _ = entry.GenerateKey(entry.KeyP256)
	wl.submit(t, &entry.Payload{Type: entry.TypeRoleGrant, Object: "role/registrar/" + string(wl.registrar.Public),
		Fields: &entry.RoleFields{Role: "registrar", Holder: wl.registrar.Public}}, wl.root)
	return wl
}

// submit signs and posts an entry, waits for publication, and returns its index.
func (wl *witnessedLand) submit(t *testing.T, p *entry.Payload, keys ...*entry.PrivateKey) uint64 {
	return wl.post(t, true, p, keys...)
}

// post signs and posts an entry, waiting for publication if wait is set.
func (wl *witnessedLand) post(t *testing.T, wait bool, p *entry.Payload, keys ...*entry.PrivateKey) uint64 {
	t.Helper()
	return wl.postRaw(t, wait, wl.sign(t, p, keys...))
}

// sign completes p for the land log and signs it.
func (wl *witnessedLand) sign(t *testing.T, p *entry.Payload, keys ...*entry.PrivateKey) []byte {
	t.Helper()
	p.Log, p.Time = landOrigin, time.Now().Unix()
	raw, err := entry.New(p, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// postRaw posts a signed entry, waiting for publication if wait is set.
func (wl *witnessedLand) postRaw(t *testing.T, wait bool, raw []byte) uint64 {
	t.Helper()
	u := wl.url + "/logs/land/entries"
	if wait {
		u += "?wait=published"
	}
	resp, err := http.Post(u, "application/cose", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sub api.SubmitResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &sub) != nil {
		t.Fatalf("submit: %s %s", resp.Status, body)
	}
	return sub.Index
}

// register adds a parcel whose deed is committed with salt.
func (wl *witnessedLand) register(t *testing.T, parcel string, salt, deed []byte) uint64 {
	return wl.registerWait(t, true, parcel, salt, deed)
}

func (wl *witnessedLand) registerWait(t *testing.T, wait bool, parcel string, salt, deed []byte) uint64 {
	return wl.post(t, wait, &entry.Payload{Type: entry.TypeLandRegister, Object: "land/" + parcel,
		Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: wl.owner.Public, Share: "1"}}},
		Docs:   []entry.Commitment{entry.CommitWithSalt("deed", salt, deed)}}, wl.registrar, wl.owner)
}

func httpGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestProofEndpointIssuesVerifiableCertificates gets certificates from a real
// server whose checkpoints are cosigned by real witnesses, and verifies them
// offline under the 2-of-3 trust policy.
func TestProofEndpointIssuesVerifiableCertificates(t *testing.T) {
	wl := startWitnessedLand(t)
	salt, deed := bytes.Repeat([]byte{7}, 32), []byte("deed of parcel 17, signed before the notary")
	idx := wl.register(t, "parcel-17", salt, deed)
	for i := 0; i < 3; i++ {
		wl.register(t, fmt.Sprintf("parcel-%d", 100+i), salt, deed)
	}
	for _, i := range []uint64{0, idx, idx + 3} {
		code, b := httpGet(t, fmt.Sprintf("%s/logs/land/proof/%d", wl.url, i))
		if code != http.StatusOK {
			t.Fatalf("proof %d: %d %s", i, code, b)
		}
		c, err := client.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		if i == idx {
			c.Openings = []client.Opening{{Doc: 0, Salt: salt, Contents: deed}}
		}
		roots := client.Roots{landOrigin: {wl.root.Public}}
		s, err := client.VerifyWithRoots(wl.policy, roots, c, time.Now(), time.Hour)
		if err != nil {
			t.Fatalf("proof %d: %v\n%s", i, err, b)
		}
		if s.Index != i || len(s.Cosignatures) < 2 || s.Roles != client.RolesAsRecorded || len(s.Proven) != 1 {
			t.Fatalf("summary %+v", s)
		}
		// Entry 0 is the registrar's grant, signed by the root key; the
		// parcels are registered by the registrar, granted at entry 0.
		if i == 0 && (s.Proven[0].Key != wl.root.Public || s.Proven[0].Role != "root" || len(c.Grants) != 0) {
			t.Fatalf("roles of the grant: %+v", s.Proven)
		}
		if i != 0 && (len(c.Grants) != 1 || !strings.Contains(s.String(), "signed by:  "+string(wl.registrar.Public)+" as registrar (granted at entry 0 by root "+string(wl.root.Public)+")")) {
			t.Fatalf("roles of entry %d:\n%s", i, s)
		}
		// Under another root key, the same certificate is refused.
		other, _ := entry.GenerateKey(entry.KeyEd25519)
		if _, err := client.VerifyWithRoots(wl.policy, client.Roots{landOrigin: {other.Public}}, c, time.Now(), time.Hour); !errors.Is(err, client.ErrRole) {
			t.Fatalf("proof %d under another root: %v", i, err)
		}
		if i == idx {
			if s.Object != "land/parcel-17" || len(s.Signers) != 2 || len(s.Opened) != 1 {
				t.Fatalf("summary %+v", s)
			}
			t.Logf("certificate of %d bytes:\n%s", len(b), s)
			writeGolden(t, c, wl.policyTxt+fmt.Sprintf("# %s %s %s\n", client.RootsDirective, landOrigin, wl.root.Public))
		}
	}
	code, b := httpGet(t, wl.url+"/logs/land/checkpoint")
	if code != http.StatusOK {
		t.Fatal(code)
	}
	cp, _, err := wl.policy.VerifyCheckpoint(b, landOrigin, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		fmt.Sprint(cp.Size):           http.StatusNotFound,
		"1" + strings.Repeat("0", 18): http.StatusNotFound,
		"01":                          http.StatusBadRequest, "-1": http.StatusBadRequest, "x": http.StatusBadRequest,
		"99999999999999999999": http.StatusBadRequest,
	} {
		if code, b := httpGet(t, wl.url+"/logs/land/proof/"+path); code != want {
			t.Errorf("proof/%s: %d %s, want %d", path, code, b, want)
		}
	}
}

// writeGolden stores a real certificate and its policy as test data for the
// client package when TABULARIUM_WRITE_GOLDEN is set.
func writeGolden(t *testing.T, c *client.Certificate, policy string) {
	if os.Getenv("TABULARIUM_WRITE_GOLDEN") == "" {
		return
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "client", "testdata")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Witness URLs are of this run's loopback servers: drop them.
	var lines []string
	for _, l := range strings.Split(policy, "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "witness" {
			l = strings.Join(f[:3], " ")
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(filepath.Join(dir, "land.tlog-proof"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "land.policy"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLastSeenFollowsRealLog follows the server's checkpoints with the
// client's last-seen store, proving consistency from the server's tiles.
func TestLastSeenFollowsRealLog(t *testing.T) {
	wl := startWitnessedLand(t)
	ctx := context.Background()
	f := client.NewFetcher(wl.url, "land", nil)
	store, err := client.OpenLastSeen(filepath.Join(t.TempDir(), "last-seen.json"))
	if err != nil {
		t.Fatal(err)
	}
	prover := client.TileProver{ReadTile: f.ReadTile}
	var sizes []uint64
	var first []byte
	for i := 0; i < 3; i++ {
		n := 2 + i*150 // crosses a tile boundary, so partial tiles are involved
		for j := 0; j < n; j++ {
			wl.registerWait(t, j == n-1, fmt.Sprintf("p-%d-%d", i, j), []byte("salt"), []byte("deed"))
		}
		msg, err := f.ReadCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := store.Update(ctx, wl.policy, landOrigin, msg, prover, time.Now(), time.Hour)
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		sizes = append(sizes, cp.Size)
		if i == 0 {
			first = msg
		}
	}
	if sizes[2] <= sizes[0] {
		t.Fatalf("sizes %v", sizes)
	}
	// Certificates across tile boundaries verify against the latest checkpoint.
	for _, i := range []uint64{0, 255, 256, sizes[2] - 1} {
		c, err := f.Certificate(ctx, i)
		if err != nil {
			t.Fatalf("certificate %d: %v", i, err)
		}
		if _, err := client.Verify(wl.policy, c, time.Now(), time.Hour); err != nil {
			t.Fatalf("certificate %d: %v", i, err)
		}
	}
	if _, err := store.Update(ctx, wl.policy, landOrigin, []byte("not a checkpoint"), prover, time.Now(), time.Hour); err == nil {
		t.Fatal("garbage accepted")
	}
	// A checkpoint the server published earlier is a rollback.
	if _, err := store.Update(ctx, wl.policy, landOrigin, first, prover, time.Now(), time.Hour); !errors.Is(err, client.ErrRollback) {
		t.Fatalf("earlier checkpoint: %v", err)
	}
}

// TestProofsFollowTheGrowingLog asks one server for certificates while its
// log grows past entry-bundle and tile boundaries: the server's Issuer keeps
// tiles and bundles between requests, and must never answer from a partial
// tile or bundle of an older checkpoint.
func TestProofsFollowTheGrowingLog(t *testing.T) {
	wl := startWitnessedLand(t)
	salt, deed := bytes.Repeat([]byte{9}, 32), []byte("deed")
	roots := client.Roots{landOrigin: {wl.root.Public}}
	next := 0
	for _, round := range []int{100, 200, 300} {
		var wg sync.WaitGroup
		indices := make(chan uint64, round)
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < round; i += 8 {
					indices <- wl.registerWait(t, false, fmt.Sprintf("grow-%d-%d", next, i), salt, deed)
				}
			})
		}
		wg.Wait()
		close(indices)
		var last uint64
		for i := range indices {
			last = max(last, i)
		}
		next += round
		// Wait until the published checkpoint covers the round.
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, _ := httpGet(t, fmt.Sprintf("%s/logs/land/proof/%d", wl.url, last))
			if code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("entry %d not published: %d", last, code)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, i := range []uint64{0, 1, last / 2, last - 1, last} {
			code, b := httpGet(t, fmt.Sprintf("%s/logs/land/proof/%d", wl.url, i))
			if code != http.StatusOK {
				t.Fatalf("size >%d, proof %d: %d %s", last, i, code, b)
			}
			c, err := client.ParseCertificate(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.VerifyWithRoots(wl.policy, roots, c, time.Now(), time.Hour); err != nil {
				t.Fatalf("size >%d, proof %d: %v", last, i, err)
			}
		}
	}
}

// TestProofCarriesTheGrantInForce asks one server, which remembers role
// objects and proven grants per checkpoint, for the certificates of entries
// signed under a first grant, after its revocation, and under a second grant:
// each carries the grant in force at its index, or none.
func TestProofCarriesTheGrantInForce(t *testing.T) {
	wl := startWitnessedLand(t)
	salt, deed := bytes.Repeat([]byte{3}, 32), []byte("deed")
	reg2, _ := entry.GenerateKey(entry.KeyEd25519)
	var prev []byte // the role object's latest entry
	role := func(typ string) uint64 {
		raw := wl.sign(t, &entry.Payload{Type: typ, Object: "role/registrar/" + string(reg2.Public), Prev: prev,
			Fields: &entry.RoleFields{Role: "registrar", Holder: reg2.Public}}, wl.root)
		h := entry.Hash(raw)
		prev = h[:]
		return wl.postRaw(t, true, raw)
	}
	grant := func() uint64 { return role(entry.TypeRoleGrant) }
	register := func(parcel string) uint64 {
		return wl.submit(t, &entry.Payload{Type: entry.TypeLandRegister, Object: "land/" + parcel,
			Fields: &entry.OwnersFields{Owners: []entry.Share{{Key: wl.owner.Public, Share: "1"}}},
			Docs:   []entry.Commitment{entry.CommitWithSalt("deed", salt, deed)}}, reg2, wl.owner)
	}
	g1 := grant()
	a := register("under-first-grant")
	role(entry.TypeRoleRevoke)
	g2 := grant()
	b := register("under-second-grant")
	roots := client.Roots{landOrigin: {wl.root.Public}}
	// Twice each, so the second answers come from the memo.
	for range 2 {
		for index, want := range map[uint64]uint64{a: g1, b: g2} {
			code, body := httpGet(t, fmt.Sprintf("%s/logs/land/proof/%d", wl.url, index))
			if code != http.StatusOK {
				t.Fatalf("proof %d: %d %s", index, code, body)
			}
			c, err := client.ParseCertificate(body)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Grants) != 1 || c.Grants[0].Index != want {
				var got []uint64
				for _, g := range c.Grants {
					got = append(got, g.Index)
				}
				t.Fatalf("entry %d: grants at %v, want the grant at %d", index, got, want)
			}
			if _, err := client.VerifyWithRoots(wl.policy, roots, c, time.Now(), time.Hour); err != nil {
				t.Fatalf("entry %d: %v", index, err)
			}
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	tablog "github.com/tabularium/tabularium/log"
	"github.com/tabularium/tabularium/log/engine/awstest"
	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/entry"
)

// s3Tier is the configuration of one land log on the scale-out tier, on the
// test's MinIO prefix and MariaDB database, shared by the front ends started
// from it.
type s3Tier struct {
	bin, config string
	s3          *awstest.S3
	root        *entry.PrivateKey
	vkey        string
}

func newS3Tier(t *testing.T) *s3Tier {
	t.Helper()
	s := awstest.NewS3(t)
	dsn := awstest.MySQLDSN(t)
	data := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(data, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	skey, vkey, err := tablog.GenerateKey("tabularium.local/land")
	if err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(filepath.Join(data, "land.key"), skey); err != nil {
		t.Fatal(err)
	}
	root, err := entry.GenerateKey(entry.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	write("mysql.dsn", dsn+"\n")
	write("s3.credentials", fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", s.AccessKey, s.SecretKey))
	write("tabularium.yaml", fmt.Sprintf(`data: .
logs:
  - name: land
    registry: land
    key_file: land.key
    roots: [%q]
    batch_max_age: 10ms
    checkpoint_interval: 1s
    storage:
      kind: s3
      endpoint: %s
      region: %s
      bucket: %s
      prefix: %s
      path_style: true
      credentials_file: s3.credentials
      mysql_dsn_file: mysql.dsn
`, root.Public, s.Endpoint, s.Region, s.Bucket, s.Prefix))
	return &s3Tier{bin: buildBinary(t), config: filepath.Join(data, "tabularium.yaml"), s3: s, root: root, vkey: vkey}
}

// start runs one front end and returns it and its base URL.
func (st *s3Tier) start(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd, base := startServe(t, st.bin, "--config", st.config, "--listen", "127.0.0.1:0", "--metrics-listen", "off")
	// Ready once a checkpoint is published: tessera publishes the first one
	// within a checkpoint interval of the log's creation.
	for deadline := time.Now().Add(30 * time.Second); status(t, base+"/readyz") != 200; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("front end not ready")
		}
	}
	return cmd, base
}

// post submits raw and returns the HTTP status and the index acknowledged.
func post(t *testing.T, base string, raw []byte) (int, uint64) {
	t.Helper()
	resp, err := http.Post(base+"/logs/land/entries", "application/cose", bytes.NewReader(raw))
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	var r struct {
		Index uint64 `json:"index"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Errorf("receipt: %v", err)
		}
	}
	return resp.StatusCode, r.Index
}

func (st *s3Tier) sign(t *testing.T, p *entry.Payload) []byte {
	t.Helper()
	p.Log = "tabularium.local/land"
	raw, err := entry.New(p, st.root)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestS3TierEndToEnd runs two front ends (the real binary) on one log in
// MinIO and MariaDB: the HTTP contract of the POSIX tier holds on both;
// rival revocations of each role, spread over both and sent at once, are
// accepted exactly once per role; both serve the same state; the proof
// endpoint issues certificates; and the tiles in the bucket, read straight
// from it, verify with golang.org/x/mod/sumdb/tlog.
func TestS3TierEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	st := newS3Tier(t)
	_, a := st.start(t)
	_, b := st.start(t)
	fronts := []string{a, b}
	for _, base := range fronts {
		var logs []LogInfo
		getJSON(t, base+"/logs", &logs)
		if len(logs) != 1 || logs[0].VKey != st.vkey {
			t.Fatalf("GET /logs = %+v", logs)
		}
		for url, want := range map[string]int{
			"/readyz":                200,
			"/logs/land/checkpoint":  200,
			"/logs/land/tile/5/000":  404,
			"/logs/land/tile/0/0":    400,
			"/logs/land/tile/64/000": 400,
			"/logs/land/nothing":     404,
		} {
			if got := status(t, base+url); got != want {
				t.Errorf("%s GET %s: status %d, want %d", base, url, got, want)
			}
		}
	}

	const objects, rivals = 10, 6
	holders := make([]entry.PublicKey, objects)
	grants := make([][]byte, objects)
	now := time.Now().Unix()
	for i := range holders {
		k, _ := entry.GenerateKey(entry.KeyEd25519)
		holders[i] = k.Public
		grants[i] = st.sign(t, &entry.Payload{Type: entry.TypeRoleGrant, Object: "role/bank/" + string(k.Public), Time: now,
			Fields: &entry.RoleFields{Role: "bank", Holder: k.Public}})
		if code, _ := post(t, fronts[i%2], grants[i]); code != 200 {
			t.Fatalf("grant %d: status %d", i, code)
		}
	}
	type result struct{ code, object int }
	results := make(chan result, objects*rivals)
	var wg sync.WaitGroup
	var maxIndex uint64
	var mu sync.Mutex
	for i := range holders {
		prev := entry.Hash(grants[i])
		for r := range rivals {
			raw := st.sign(t, &entry.Payload{Type: entry.TypeRoleRevoke, Object: "role/bank/" + string(holders[i]), Prev: prev[:],
				Time: now + int64(r) + 1, Fields: &entry.RoleFields{Role: "bank", Holder: holders[i]}})
			wg.Go(func() {
				code, idx := post(t, fronts[r%2], raw)
				mu.Lock()
				maxIndex = max(maxIndex, idx)
				mu.Unlock()
				results <- result{code, i}
			})
		}
	}
	wg.Wait()
	close(results)
	accepted := make([]int, objects)
	for r := range results {
		switch r.code {
		case 200:
			accepted[r.object]++
		case 409:
		default:
			t.Errorf("rival revocation of object %d: status %d", r.object, r.code)
		}
	}
	for o, n := range accepted {
		if n != 1 {
			t.Errorf("object %d: %d of %d rival revocations accepted across two front ends, want 1", o, n, rivals)
		}
	}
	for i := range holders {
		id := "role/bank/" + string(holders[i])
		_, sa := httpGet(t, a+"/logs/land/objects/"+id)
		_, sb := httpGet(t, b+"/logs/land/objects/"+id)
		if !bytes.Equal(sa, sb) || !bytes.Contains(sa, []byte("revoked")) {
			t.Errorf("object %s: front end A says %s, B says %s", id, sa, sb)
		}
	}

	// Wait for publication, then verify the bucket itself.
	size, root := awaitBucketCheckpoint(t, st, maxIndex)
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, bucketTileReader{t: t, s3: st.s3})
	if got, err := tlog.TreeHash(size, hr); err != nil || got != root {
		t.Fatalf("tree hash from the bucket's tiles: %v, %v; checkpoint root %v", got, err, root)
	}
	for _, base := range fronts {
		hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, httpTileReader{t: t, base: base + "/logs/land/"})
		if got, err := tlog.TreeHash(size, hr); err != nil || got != root {
			t.Fatalf("tree hash from %s's tiles: %v, %v", base, got, err)
		}
		if code, body := httpGet(t, fmt.Sprintf("%s/logs/land/proof/%d", base, maxIndex)); code != 200 {
			t.Errorf("%s proof of %d: %d %s", base, maxIndex, code, body)
		}
	}
	entries := readAllEntries(t, a+"/logs/land/", size)
	for i := int64(0); i < size; i++ {
		if _, err := tlog.ProveRecord(size, i, hr); err != nil {
			t.Fatalf("record proof %d: %v", i, err)
		}
		_ = entries[i]
	}
}

// awaitBucketCheckpoint reads the checkpoint straight from the bucket until it
// covers index, checks its signature and returns its size and root.
func awaitBucketCheckpoint(t *testing.T, st *s3Tier, index uint64) (int64, tlog.Hash) {
	t.Helper()
	v, err := note.NewVerifier(st.vkey)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		raw, cc, err := st.s3.Get(t.Context(), "checkpoint")
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			continue // not published yet
		}
		if cc != "no-cache" {
			t.Errorf("checkpoint object Cache-Control %q", cc)
		}
		n, err := note.Open(raw, note.VerifierList(v))
		if err != nil {
			t.Fatalf("checkpoint in the bucket does not verify: %v", err)
		}
		var size int64
		var hash string
		fmt.Sscanf(n.Text, "tabularium.local/land\n%d\n%s\n", &size, &hash)
		root, err := tlog.ParseHash(hash)
		if err != nil {
			t.Fatal(err)
		}
		if size > int64(index) {
			return size, root
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint in the bucket covers %d (size %d)", index, size)
		}
	}
}

// bucketTileReader reads tiles straight from the bucket, for x/mod's tlog.
type bucketTileReader struct {
	t  *testing.T
	s3 *awstest.S3
}

func (r bucketTileReader) Height() int { return 8 }

func (r bucketTileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		key := "tile/" + strings.TrimPrefix(tile.Path(), "tile/8/")
		b, cc, err := r.s3.Get(r.t.Context(), key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if !strings.Contains(cc, "immutable") {
			return nil, fmt.Errorf("%s: Cache-Control %q", key, cc)
		}
		out[i] = b
	}
	return out, nil
}

func (r bucketTileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// TestS3TierFrontEndKilledUnderLoad: two front ends under load; one is killed
// with SIGKILL (possibly holding the database lock). The other keeps
// accepting, and every entry either acknowledged is in the log exactly once at
// its index, with its effect in the shared state.
func TestS3TierFrontEndKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds, runs and kills the binary")
	}
	st := newS3Tier(t)
	victim, a := st.start(t)
	_, b := st.start(t)
	stop := make(chan struct{})
	var all []acked
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, base := range []string{a, b} {
		wg.Go(func() {
			got := grantLoad(t, base, st.root, stop)
			mu.Lock()
			all = append(all, got...)
			mu.Unlock()
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()
	time.Sleep(1500 * time.Millisecond) // the survivor alone
	close(stop)
	wg.Wait()
	// The survivor still accepts.
	k, _ := entry.GenerateKey(entry.KeyEd25519)
	code, last := post(t, b, st.sign(t, &entry.Payload{Type: entry.TypeRoleGrant, Object: "role/registrar/" + string(k.Public),
		Time: time.Now().Unix(), Fields: &entry.RoleFields{Role: "registrar", Holder: k.Public}}))
	if code != 200 {
		t.Fatalf("the surviving front end answers %d", code)
	}
	if len(all) == 0 {
		t.Fatal("nothing was acknowledged")
	}
	size, _ := awaitBucketCheckpoint(t, st, last)
	logged := readAllEntries(t, b+"/logs/land/", size)
	seen := map[string]int{}
	for _, e := range logged {
		seen[string(e)]++
	}
	for _, ack := range all {
		if !bytes.Equal(logged[ack.index], ack.raw) {
			t.Fatalf("acknowledged entry %d is not at its index", ack.index)
		}
		if seen[string(ack.raw)] != 1 {
			t.Fatalf("acknowledged entry %d is in the log %d times", ack.index, seen[string(ack.raw)])
		}
		if code, body := httpGet(t, b+"/logs/land/objects/"+ack.object); code != 200 {
			t.Fatalf("object %s of acknowledged entry %d: %d %s", ack.object, ack.index, code, body)
		}
	}
	t.Logf("%d acknowledged across two front ends, one killed; log size %d", len(all), size)
}

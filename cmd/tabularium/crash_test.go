package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log/keyfile"
	"github.com/tabularium/tabularium/personality/entry"
)

var crashRounds = flag.Int("crash-rounds", 20, "kill -9 rounds in TestCrashUnderLoad")

// acked is an entry the server acknowledged, at the index it gave.
type acked struct {
	index  uint64
	raw    []byte
	object string
}

// grantLoad submits role grants signed by the root key from several clients until
// stop is closed, and returns what the server acknowledged.
func grantLoad(t *testing.T, base string, root *entry.PrivateKey, stop <-chan struct{}) []acked {
	var mu sync.Mutex
	var out []acked
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				holder, err := entry.GenerateKey(entry.KeyEd25519)
				if err != nil {
					t.Error(err)
					return
				}
				obj := "role/registrar/" + string(holder.Public)
				raw, err := entry.New(&entry.Payload{Log: "tabularium.local/land", Type: entry.TypeRoleGrant, Object: obj,
					Time: time.Now().Unix(), Fields: &entry.RoleFields{Role: "registrar", Holder: holder.Public}}, root)
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := client.Post(base+"/logs/land/entries", "application/cose", bytes.NewReader(raw))
				if err != nil {
					continue // the server was killed: not acknowledged
				}
				var r struct {
					Index uint64 `json:"index"`
				}
				err = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && err == nil {
					mu.Lock()
					out = append(out, acked{index: r.Index, raw: raw, object: obj})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// TestCrashUnderLoad kills the real server with SIGKILL at random moments under
// load, restarts it, and repeats. Every acknowledged entry must then be in the
// log exactly once at its acknowledged index, the log must verify with an
// independent implementation, and the state must equal a fresh replay.
func TestCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the binary many times")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "off"}
	cmd, base := startServe(t, bin, args...)
	root := landRoot(t, data)

	var all []acked
	for round := 0; round < *crashRounds; round++ {
		stop := make(chan struct{})
		done := make(chan []acked)
		go func() { done <- grantLoad(t, base, root, stop) }()
		time.Sleep(time.Duration(100+rand.IntN(700)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		close(stop)
		got := <-done
		all = append(all, got...)
		t.Logf("round %d: %d acknowledged", round, len(got))
		cmd, base = startServe(t, bin, args...)
	}
	if len(all) == 0 {
		t.Fatal("no entry was acknowledged")
	}

	// Wait for a checkpoint covering every acknowledged entry.
	var maxIndex uint64
	for _, a := range all {
		maxIndex = max(maxIndex, a.index)
	}
	var logs []LogInfo
	getJSON(t, base+"/logs", &logs)
	v, err := note.NewVerifier(logs[0].VKey)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	var treeRoot tlog.Hash
	deadline := time.Now().Add(30 * time.Second)
	for {
		raw, err := get(base + "/logs/land/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(raw, note.VerifierList(v))
		if err != nil {
			t.Fatalf("checkpoint after the crashes does not verify: %v", err)
		}
		var hash string
		fmt.Sscanf(n.Text, "tabularium.local/land\n%d\n%s\n", &size, &hash)
		if treeRoot, err = tlog.ParseHash(hash); err != nil {
			t.Fatal(err)
		}
		if size > int64(maxIndex) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint covers index %d (size %d)", maxIndex, size)
		}
		time.Sleep(100 * time.Millisecond)
	}
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: treeRoot}, httpTileReader{t: t, base: base + "/logs/land/"})
	if got, err := tlog.TreeHash(size, hr); err != nil || got != treeRoot {
		t.Fatalf("tree hash from tiles after the crashes: %v, %v; checkpoint root %v", got, err, treeRoot)
	}

	// Every acknowledged entry is at its index, and appears exactly once.
	logged := readAllEntries(t, base+"/logs/land/", size)
	seen := map[string]int{}
	for _, e := range logged {
		seen[string(e)]++
	}
	for _, a := range all {
		if !bytes.Equal(logged[a.index], a.raw) {
			t.Fatalf("acknowledged entry %d is not at its index", a.index)
		}
		if seen[string(a.raw)] != 1 {
			t.Fatalf("acknowledged entry %d is in the log %d times", a.index, seen[string(a.raw)])
		}
	}

	// State equals a fresh replay: every object read now, then again after the
	// state index was deleted and rebuilt from the log.
	objects := map[string]string{}
	for _, e := range logged {
		p, err := entry.Parse(e)
		if err != nil {
			continue
		}
		objects[p.Payload.Object] = ""
	}
	readObjects := func(base string) map[string]string {
		out := map[string]string{}
		for id := range objects {
			resp, err := http.Get(base + "/logs/land/objects/" + id)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out[id] = fmt.Sprintf("%d %s", resp.StatusCode, b)
		}
		return out
	}
	before := readObjects(base)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	if err := os.Remove(filepath.Join(data, "state", "land.db")); err != nil {
		t.Fatal(err)
	}
	_, base = startServe(t, bin, args...)
	after := readObjects(base)
	for id, b := range before {
		if after[id] != b {
			t.Fatalf("object %s after the crashes:\n%s\nafter a fresh replay:\n%s", id, b, after[id])
		}
	}
	t.Logf("%d rounds, %d acknowledged entries, log size %d, %d objects", *crashRounds, len(all), size, len(objects))
}

// readAllEntries fetches the entry bundles of a log of the given size.
func readAllEntries(t *testing.T, base string, size int64) [][]byte {
	t.Helper()
	var out [][]byte
	for b := int64(0); b*256 < size; b++ {
		w := min(256, size-b*256)
		p := tlog.Tile{H: 8, L: 0, N: b, W: int(w)}.Path()[len("tile/8/0/"):]
		raw, err := get(base + "tile/entries/" + p)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(w); i++ {
			out = append(out, bytes.Clone(bundleEntry(t, raw, i)))
		}
	}
	return out
}

// TestGracefulShutdownUnderLoad stops the real server with SIGTERM while clients
// submit: it exits promptly and cleanly, and after a restart every acknowledged
// entry is in the log at its index.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "off"}
	cmd, base := startServe(t, bin, args...)
	root := landRoot(t, data)
	stop := make(chan struct{})
	done := make(chan []acked)
	go func() { done <- grantLoad(t, base, root, stop) }()
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM under load", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not exit within 40 s of SIGTERM under load")
	}
	close(stop)
	all := <-done
	if len(all) == 0 {
		t.Fatal("nothing was acknowledged")
	}
	_, base = startServe(t, bin, args...)
	raw, err := get(base + "/logs/land/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	fmt.Sscanf(string(raw), "tabularium.local/land\n%d\n", &size)
	logged := readAllEntries(t, base+"/logs/land/", size)
	for _, a := range all {
		if int64(a.index) >= size || !bytes.Equal(logged[a.index], a.raw) {
			t.Fatalf("acknowledged entry %d is not in the checkpoint published at shutdown (size %d)", a.index, size)
		}
	}
}

// landRoot reads the land log's generated root authority key under data.
func landRoot(t *testing.T, data string) *entry.PrivateKey {
	t.Helper()
	pemText, err := keyfile.Read(RootKeyPath(data, "land"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := entry.ParsePrivateKeyPEM([]byte(pemText + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

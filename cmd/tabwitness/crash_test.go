package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tabularium/tabularium/log"
)

// forkOf returns a log with the same origin and key as l but other entries.
func forkOf(t *testing.T, l *e2eLog, size int) *e2eLog {
	f := &e2eLog{origin: l.origin, vkey: l.vkey, signer: l.signer}
	for range size {
		h, err := tlog.StoredHashes(f.size, fmt.Appendf(nil, "forged entry %d", f.size), f.reader())
		if err != nil {
			t.Fatal(err)
		}
		f.stored = append(f.stored, h...)
		f.size++
	}
	return f
}

// latestSize asks the witness for its latest cosigned size (a 409 to old 0 tells
// it, or a 200 when it has none).
func latestSize(url string, l *e2eLog, t *testing.T) (int64, bool) {
	body, _ := l.request(t, 0, 1)
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", strings.NewReader(string(body)))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusConflict:
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return n, err == nil
	case http.StatusOK:
		return 1, true
	}
	return 0, false
}

// TestCrashNeverCosignsInconsistent kills the witness with SIGKILL while clients
// extend the log and try a fork, many times. After every restart the witness's
// stored checkpoint is at least as large as every cosigned one and lies on the
// true log, and no forged checkpoint is ever cosigned.
func TestCrashNeverCosignsInconsistent(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "keygen", "--name", "witness.example/crash", "--out", filepath.Join(dir, "witness.key")).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	const size = 20000
	l := newE2ELog(t, "example.com/crash-log", size)
	fork := forkOf(t, l, size)
	config := filepath.Join(dir, "witness.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, "key_file: witness.key\nlisten: 127.0.0.1:0\nstore:\n  sqlite: witness.db\nlogs:\n  - origin: %s\n    vkey: %s\n", l.origin, l.vkey), 0o644); err != nil {
		t.Fatal(err)
	}
	lv, err := log.NewVerifier(l.vkey)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var maxCosigned int64
	var cosigned, forksRefused int
	for round := 0; round < 15; round++ {
		cmd, urls := startServe(t, bin, config, 1)
		url := urls[0]

		// The stored checkpoint survived the crash: it covers every cosigned size
		// and is the true log's root.
		resp, err := http.Get(url + "/" + hex.EncodeToString(sha256Sum(l.origin)) + "/checkpoint")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c, _, err := log.OpenCheckpoint(b, l.origin, lv)
				if err != nil {
					t.Fatalf("stored checkpoint after crash: %v", err)
				}
				want, _ := tlog.TreeHash(int64(c.Size), l.reader())
				if int64(c.Size) < maxCosigned || c.Hash != want {
					t.Fatalf("round %d: stored size %d (max cosigned %d), on the true log: %v", round, c.Size, maxCosigned, c.Hash == want)
				}
			} else if maxCosigned > 0 {
				t.Fatalf("round %d: no stored checkpoint after cosigning size %d", round, maxCosigned)
			}
		}

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					from, ok := latestSize(url, l, t)
					if !ok || from >= size {
						continue
					}
					to := from + 1 + rand.Int64N(min(10, size-from))
					src := l
					if from > 0 && rand.IntN(4) == 0 { // a witness with no state can tell no fork
						src = fork
					}
					body, _ := src.request(t, from, to)
					resp, err := http.Post(url+"/add-checkpoint", "text/plain", strings.NewReader(string(body)))
					if err != nil {
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					if resp.StatusCode == http.StatusOK {
						if src == fork {
							t.Errorf("witness cosigned a forged checkpoint %d -> %d", from, to)
						} else {
							cosigned++
							maxCosigned = max(maxCosigned, to)
						}
					} else if src == fork {
						forksRefused++
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		close(stop)
		wg.Wait()
		if maxCosigned >= size-1 {
			break
		}
	}
	if cosigned == 0 || forksRefused == 0 {
		t.Fatalf("cosigned %d, forks refused %d: the load did not exercise the witness", cosigned, forksRefused)
	}
	t.Logf("cosigned %d checkpoints up to size %d; refused %d forged ones", cosigned, maxCosigned, forksRefused)
}

func sha256Sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

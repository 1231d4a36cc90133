package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tabularium/tabularium/personality/entry"
)

// grants returns n role grants signed by root, each for a fresh holder.
func grants(t *testing.T, root *entry.PrivateKey, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		h, err := entry.GenerateKey(entry.KeyEd25519)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := entry.New(&entry.Payload{Log: "tabularium.local/land", Type: entry.TypeRoleGrant, Object: "role/notary/" + string(h.Public),
			Time: time.Now().Unix(), Fields: &entry.RoleFields{Role: "notary", Holder: h.Public}}, root)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// TestOverloadPushesBackAndRecovers offers far more than the server accepts: the
// excess gets 503 with Retry-After, memory stays bounded, every acknowledged
// entry is in the log, and once the load drops submissions succeed again.
func TestOverloadPushesBackAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of overload")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := DefaultConfig(t.TempDir())
	cfg.Logs = cfg.Logs[:1]
	cfg.Logs[0].MaxPending = 16
	cfg.Logs[0].BatchMaxAge = 100 * time.Millisecond
	s, err := openServer(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(context.Background())
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	root := landRoot(t, cfg.Data)
	const clients, each = 96, 40
	work := grants(t, root, clients*each+20)

	var ok, pushed, other atomic.Int64
	var mu sync.Mutex
	acked := map[uint64][]byte{}
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, raw := range work[c*each : (c+1)*each] {
				resp, err := http.Post(srv.URL+"/logs/land/entries", "application/cose", bytes.NewReader(raw))
				if err != nil {
					other.Add(1)
					continue
				}
				var r struct {
					Index uint64 `json:"index"`
				}
				switch resp.StatusCode {
				case http.StatusOK:
					if err := decodeJSON(resp, &r); err == nil {
						ok.Add(1)
						mu.Lock()
						acked[r.Index] = raw
						mu.Unlock()
					}
				case http.StatusServiceUnavailable:
					if resp.Header.Get("Retry-After") == "" {
						t.Error("503 without Retry-After")
					}
					pushed.Add(1)
				default:
					other.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("overload: %d accepted, %d pushed back, %d other; heap in use %d MiB", ok.Load(), pushed.Load(), other.Load(), m.HeapInuse>>20)
	if pushed.Load() == 0 || ok.Load() == 0 || other.Load() != 0 {
		t.Fatalf("want both acceptances and 503s and nothing else: %d ok, %d 503, %d other", ok.Load(), pushed.Load(), other.Load())
	}
	if m.HeapInuse > 1<<30 {
		t.Fatalf("heap in use %d MiB under overload", m.HeapInuse>>20)
	}

	// The load drops: submissions one at a time are all accepted.
	for _, raw := range work[clients*each:] {
		resp, err := http.Post(srv.URL+"/logs/land/entries", "application/cose", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("after the overload a submission got %d", resp.StatusCode)
		}
	}
	land := s.logs[0].log
	size, err := land.IntegratedSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := land.ReadEntries(ctx, 0, size, func(i uint64, data []byte) error {
		if want, ok := acked[i]; ok && !bytes.Equal(want, data) {
			t.Fatalf("entry %d is not the one acknowledged at it", i)
		}
		delete(acked, i)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(acked) != 0 {
		t.Fatalf("%d acknowledged entries are not in the log", len(acked))
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}

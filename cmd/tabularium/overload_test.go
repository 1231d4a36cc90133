package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	rtmetrics "runtime/metrics"
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
// excess gets 503 with Retry-After, the server retains no backlog (its live
// heap stays within a few MiB of what it was), every acknowledged
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

	retained := watchRetainedHeap()
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
	grown, samples := retained()
	t.Logf("overload: %d accepted, %d pushed back, %d other; live heap grew by at most %d KiB over %d collections",
		ok.Load(), pushed.Load(), other.Load(), grown>>10, samples)
	if pushed.Load() == 0 || ok.Load() == 0 || other.Load() != 0 {
		t.Fatalf("want both acceptances and 503s and nothing else: %d ok, %d 503, %d other", ok.Load(), pushed.Load(), other.Load())
	}
	// The clients have at most 96 requests in flight, each entry under 1 KiB
	// here (64 KiB at most); the server's queue holds MaxPending of them.
	// Holding every offered entry with its request and goroutine would cost
	// tens of MiB; what the server keeps while it pushes back is a few MiB.
	if grown > maxRetainedUnderOverload {
		t.Fatalf("the live heap grew by %d MiB under overload, limit %d MiB", grown>>20, maxRetainedUnderOverload>>20)
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

// maxRetainedUnderOverload bounds the growth of the live heap while the
// server pushes back.
const maxRetainedUnderOverload = 16 << 20

// watchRetainedHeap starts collecting garbage every 250 ms and recording the
// live heap, the memory the process retains, until the returned function is
// called; that function returns how far the live heap grew over its value at
// the start, at its highest, and how many collections measured it. The heap
// in use without a collection counts garbage, and what the process retained
// before the start (tessera's Badger antispam index cannot be closed, so each
// server opened earlier in the process keeps about 86 MiB) is not counted.
func watchRetainedHeap() func() (grown uint64, samples int) {
	runtime.GC()
	base := liveHeap()
	var peak uint64
	n := 0
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			runtime.GC()
			peak = max(peak, liveHeap())
			n++
		}
	}()
	return func() (uint64, int) {
		close(stop)
		<-done
		runtime.GC()
		peak = max(peak, liveHeap())
		return peak - min(peak, base), n + 1
	}
}

// liveHeap returns the bytes of heap the last garbage collection found live.
func liveHeap() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}

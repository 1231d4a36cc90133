package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tabularium/tabularium/log/tiles"
)

// readers offer read load, open loop at --read-load reads/s: alternately the
// state of a recently acknowledged object and a full level-0 tile of the
// published tree (the checkpoint while the tree has none).
type readers struct {
	r       *run
	targets []*target
	claimed atomic.Int64

	mu     sync.Mutex
	lat    []time.Duration
	errors map[string]int
}

// run reads until ctx ends or the run is over.
func (rd *readers) run(ctx context.Context) {
	rd.errors = map[string]int{}
	var wg sync.WaitGroup
	for range rd.r.c.readClients {
		wg.Go(func() { rd.loop(ctx) })
	}
	wg.Wait()
}

func (rd *readers) loop(ctx context.Context) {
	for {
		i := rd.claimed.Add(1) - 1
		due := rd.r.start.Add(time.Duration(float64(i) / rd.r.c.readRate * float64(time.Second)))
		if !rd.r.end.IsZero() && !due.Before(rd.r.end) {
			return
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		kind := rd.read(ctx, rd.path(i))
		if ctx.Err() != nil {
			return
		}
		rd.mu.Lock()
		if kind == "" {
			rd.lat = append(rd.lat, time.Since(due))
		} else {
			rd.errors[kind]++
		}
		rd.mu.Unlock()
	}
}

// path returns the URL of read i.
func (rd *readers) path(i int64) string {
	t := rd.targets[(i/2)%int64(len(rd.targets))]
	if i%2 == 0 {
		if id := rd.r.recent[t].get(int(i / 2)); id != "" {
			return t.base + "objects/" + id
		}
	}
	if w := rd.r.watches[t]; w != nil && w.size.Load() >= 256 {
		n := uint64(i/2) % (w.size.Load() / 256)
		return t.base + tiles.Resource{Kind: tiles.Tile, Level: 0, Index: n}.String()
	}
	return t.base + "checkpoint"
}

// read GETs u and returns "" or the error kind.
func (rd *readers) read(ctx context.Context, u string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "request"
	}
	resp, err := rd.r.s.hc.Do(req)
	if err != nil {
		return "transport"
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "transport"
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("GET %d", resp.StatusCode)
	}
	return ""
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tlog "github.com/tabularium/tabularium/log"
)

// pollInterval is how often a publishWatch reads the checkpoint; it bounds the
// error of the published latency.
const pollInterval = 20 * time.Millisecond

// publishWatch polls one log's published checkpoint, verifying its signature,
// and records for every acknowledged entry how long after it was due a
// published checkpoint first covered it. (A log with a witness policy
// publishes only checkpoints its witnesses cosigned.)
type publishWatch struct {
	t    *target
	hc   *http.Client
	size atomic.Uint64 // of the latest published checkpoint seen

	mu      sync.Mutex
	pending []pendingEntry
	lat     []time.Duration
	errs    int
}

type pendingEntry struct {
	index uint64
	due   time.Time
}

// add records an acknowledged entry.
func (w *publishWatch) add(index uint64, due time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if index < w.size.Load() {
		w.lat = append(w.lat, time.Since(due))
		return
	}
	w.pending = append(w.pending, pendingEntry{index, due})
}

// run polls until ctx ends.
func (w *publishWatch) run(ctx context.Context) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		w.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *publishWatch) poll(ctx context.Context) {
	size, err := w.read(ctx)
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			w.errs++
		}
		return
	}
	w.size.Store(size)
	kept := w.pending[:0]
	for _, p := range w.pending {
		if p.index < size {
			w.lat = append(w.lat, now.Sub(p.due))
		} else {
			kept = append(kept, p)
		}
	}
	w.pending = kept
}

// read fetches and verifies the log's checkpoint and returns its size.
func (w *publishWatch) read(ctx context.Context) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.t.base+"checkpoint", nil)
	if err != nil {
		return 0, err
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, tlog.MaxNoteSize+1))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("checkpoint: %s", resp.Status)
	}
	cp, _, err := tlog.OpenCheckpoint(b, w.t.origin, w.t.verifier)
	return cp.Size, err
}

// drain polls until no acknowledged entry is pending or ctx ends, and returns
// how many are still pending.
func (w *publishWatch) drain(ctx context.Context) int {
	for {
		w.mu.Lock()
		n := len(w.pending)
		w.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-time.After(pollInterval):
		}
	}
}

// recentObjects keeps the latest acknowledged object ids of a log for reads.
type recentObjects struct {
	mu   sync.Mutex
	ids  [4096]string
	next int
}

func (r *recentObjects) add(id string) {
	r.mu.Lock()
	r.ids[r.next%len(r.ids)] = id
	r.next++
	r.mu.Unlock()
}

// get returns the object added n additions ago, modulo what is kept.
func (r *recentObjects) get(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == 0 {
		return ""
	}
	return r.ids[(r.next-1-n%min(r.next, len(r.ids)))%len(r.ids)]
}

// rssSampler reads a local process's resident memory from /proc.
type rssSampler struct {
	pid      int
	last     int64 // VmRSS, bytes
	max      int64
	hwm      int64 // VmHWM: the peak the kernel saw
	failures int
}

func (s *rssSampler) run(ctx context.Context) {
	if s.pid == 0 {
		return
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		s.sample()
		select {
		case <-ctx.Done():
			s.sample()
			return
		case <-tick.C:
		}
	}
}

func (s *rssSampler) sample() {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		s.failures++
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			s.last, s.max = kb<<10, max(s.max, kb<<10)
		case "VmHWM":
			s.hwm = kb << 10
		}
	}
}

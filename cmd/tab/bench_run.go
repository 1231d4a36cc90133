package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// run is one measurement: the schedule of arrivals and the shared counters.
//
// Arrivals are numbered. With a rate, arrival i is due at start + i/rate
// whether or not a worker is free (open loop), so a request's latency counts
// from when it was due and includes any queueing behind a slow server. Without
// a rate, each worker sends its next entry as soon as the previous one is
// answered, and latency counts from sending.
type run struct {
	c       *benchConfig
	s       *sender
	start   time.Time
	end     time.Time // zero without --duration
	claimed atomic.Int64
	acked   atomic.Int64
	lastAck atomic.Int64 // nanoseconds after start
	watches map[*target]*publishWatch
	recent  map[*target]*recentObjects
}

// arrival claims the next arrival and returns when it is due, or false once
// the run has offered everything it will.
func (r *run) arrival() (time.Time, bool) {
	i := r.claimed.Add(1) - 1
	if r.c.count > 0 && i >= int64(r.c.count) {
		return time.Time{}, false
	}
	now := time.Now()
	if !r.end.IsZero() && !now.Before(r.end) {
		return time.Time{}, false
	}
	if r.c.rate == 0 {
		return now, true
	}
	at := r.start.Add(time.Duration(float64(i) / r.c.rate * float64(time.Second)))
	if !r.end.IsZero() && !at.Before(r.end) {
		return time.Time{}, false
	}
	return at, true
}

// offered returns how many arrivals were due during the run: the backlog is
// what the workers never got to.
func (r *run) offered(elapsed time.Duration) int64 {
	if r.c.rate == 0 {
		return 0
	}
	n := int64(r.c.rate * min(elapsed, r.end.Sub(r.start)).Seconds())
	if r.c.count > 0 {
		n = min(n, int64(r.c.count))
	}
	return n
}

// worker submits q's entries at the arrivals it claims until the run is over.
// ctx bounds the requests themselves, which may outlive the run by --drain.
func (r *run) worker(ctx context.Context, q *queue, st *workerStats) error {
	for {
		it, err := q.next()
		if err != nil {
			return err
		}
		at, ok := r.arrival()
		if !ok {
			return nil
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(d):
			}
		}
		st.submitted++
		res, err := r.s.submit(ctx, it)
		st.retries += res.retries
		if err != nil {
			st.abandoned++
			return nil
		}
		if res.kind != "" {
			st.errors[res.kind]++
			q.fail(it)
			continue
		}
		r.acknowledged(it, res, at, st)
	}
}

func (r *run) acknowledged(it *item, res result, at time.Time, st *workerStats) {
	now := time.Now()
	st.record(now.Sub(at), it)
	r.acked.Add(1)
	for d := int64(now.Sub(r.start)); ; {
		last := r.lastAck.Load()
		if d <= last || r.lastAck.CompareAndSwap(last, d) {
			break
		}
	}
	if w := r.watches[it.target]; w != nil && r.c.waitPublished {
		w.add(res.index, at)
	}
	if ro := r.recent[it.target]; ro != nil {
		ro.add(it.object)
	}
}

// bench sets up, prepares and runs one measurement and returns its report.
func bench(ctx context.Context, c *benchConfig) (*report, error) {
	hc := newBenchClient(c)
	s := &sender{hc: hc, maxRetryAfter: 10 * time.Second}
	targets, gens, err := setup(ctx, hc, s, c)
	if err != nil {
		return nil, err
	}
	queues := make([]*queue, c.clients)
	for w := range queues {
		queues[w] = newQueue(gens(w))
	}
	t0 := time.Now()
	fmt.Fprintf(c.progress, "bench: signing %d entries for %d clients...\n", c.prepared(), c.clients)
	if err := prepareAll(ctx, queues, c.prepared()); err != nil {
		return nil, err
	}
	prep := time.Since(t0)
	r := &run{c: c, s: s, watches: map[*target]*publishWatch{}, recent: map[*target]*recentObjects{}}
	for _, t := range targets {
		if t.kind != "raw" && (c.waitPublished || c.readRate > 0) {
			r.watches[t] = &publishWatch{t: t, hc: hc}
		}
		if c.readRate > 0 {
			r.recent[t] = &recentObjects{}
		}
	}
	rep, err := r.measure(ctx, queues, targets)
	if err != nil {
		return nil, err
	}
	rep.PrepareS = prep.Seconds()
	return rep, nil
}

// measure runs the workers, readers, publication watchers and memory sampler.
func (r *run) measure(ctx context.Context, queues []*queue, targets []*target) (*report, error) {
	c := r.c
	r.start = time.Now()
	reqCtx, cancelReq := ctx, context.CancelFunc(func() {})
	if c.duration > 0 {
		r.end = r.start.Add(c.duration)
		reqCtx, cancelReq = context.WithDeadline(ctx, r.end.Add(c.drain))
	}
	defer cancelReq()
	side, stopSide := context.WithCancel(ctx)
	defer stopSide()
	var sideWG sync.WaitGroup
	for _, w := range r.watches {
		sideWG.Go(func() { w.run(side) })
	}
	rss := &rssSampler{pid: c.serverPID}
	sideWG.Go(func() { rss.run(side) })
	sideWG.Go(func() { r.report(side) })
	rd := &readers{r: r, targets: targets}
	readCtx, stopReads := context.WithCancel(reqCtx)
	defer stopReads()
	var readWG sync.WaitGroup
	if c.readRate > 0 {
		readWG.Go(func() { rd.run(readCtx) })
	}
	stats := make([]*workerStats, len(queues))
	g := new(errgroup.Group)
	for w, q := range queues {
		stats[w] = newWorkerStats()
		if c.keepObjects {
			stats[w].objects = map[objectKey]*objectAcks{}
		}
		g.Go(func() error { return r.worker(reqCtx, q, stats[w]) })
	}
	err := g.Wait()
	stopReads()
	readWG.Wait()
	elapsed := time.Duration(r.lastAck.Load())
	if elapsed == 0 {
		elapsed = time.Since(r.start)
	}
	if err != nil {
		return nil, err
	}
	unpublished := r.awaitPublished(ctx)
	stopSide()
	sideWG.Wait()
	rep := r.summarise(stats, queues, elapsed)
	rep.addPublished(r.watches, unpublished)
	rep.addReads(rd, elapsed)
	rep.addRSS(rss)
	return rep, nil
}

// awaitPublished waits, at most --drain, until a published checkpoint covers
// every acknowledged entry, and returns how many none covered.
func (r *run) awaitPublished(ctx context.Context) int {
	if !r.c.waitPublished {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, r.c.drain)
	defer cancel()
	n := 0
	for _, w := range r.watches {
		n += w.drain(ctx)
	}
	return n
}

// report prints progress every five seconds.
func (r *run) report(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	last, lastT := int64(0), r.start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			n := r.acked.Load()
			fmt.Fprintf(r.c.progress, "bench: %6.1fs %9d acknowledged, %8.0f/s\n", now.Sub(r.start).Seconds(), n, float64(n-last)/now.Sub(lastT).Seconds())
			last, lastT = n, now
		}
	}
}

// runID names one run's objects.
func runID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
